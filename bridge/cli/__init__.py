"""The ``bridge`` command line: the only code in the bridge that prints.

``bridge.cli.app`` holds the typer app and the error handler; each command group has
its own module beside it. Nothing outside this package imports it, but the
``bridge`` console script and ``python -m bridge``, through ``main``.
"""

from __future__ import annotations

from bridge.cli.app import main

__all__ = ["main"]
