"""The command-line options several ``bridge`` commands share, spelled and explained once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration file (default: $BRIDGE_CONFIG, else ./bridge.toml).",
    ),
]
RouteOption = Annotated[str | None, typer.Option("--route", "-r", help="Only this route.")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")
]
