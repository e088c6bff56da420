"""The capdsl terminal UI (Textual): explore a plan, its costs and its what-ifs, live.

This is the only package that imports Textual. It talks to the rest of capdsl through
``capdsl.api`` (wrapped by :mod:`capdsl.tui.backend`, so tests can inject fakes) and reads
the data types of ``capdsl.model.plan``, ``capdsl.solve.solution`` and
``capdsl.lang.diagnostics``. Entry point: :func:`capdsl.tui.app.run`.
"""
