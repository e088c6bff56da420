"""capdsl's reference AWS pricing source, a plugin like any third party's.

Registered through the ``capdsl`` entry-point group (``aws = "capdsl_aws"``); plans use it
with ``catalog aws from "aws" { regions = ["us-east-1"] }`` or, offline, with
``file = "offers.json"``. See ``capdsl_aws.source`` for the formats and options.
"""

from __future__ import annotations

from collections.abc import Callable

from capdsl.plugins import PricingSource, hookimpl

__version__ = "0.1.0"


@hookimpl
def register_pricing_sources(register: Callable[[PricingSource], None]) -> None:
    from capdsl_aws.source import AwsSource

    register(AwsSource())
