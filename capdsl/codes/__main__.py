"""``python -m capdsl.codes > docs/errors.md`` regenerates the code index."""

import sys

from capdsl.codes import index_markdown

sys.stdout.write(index_markdown())
