"""``bridge metrics``: the bridge's state as Prometheus text (see ``bridge.daemon.metrics``).

The daemon's own metrics file is written by ``bridge.cli.run.metrics_writer``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption
from bridge.daemon import render_metrics, write_atomically
from bridge.ledger import Ledger


def metrics(
    config: ConfigOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (replaced atomically)."),
    ] = None,
) -> None:
    """Print the bridge's state as Prometheus metrics (or write them to a file)."""
    settings = load_settings(config, log_format="console")
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        text = render_metrics(ledger, [r.name for r in settings.routes])
    finally:
        ledger.close()
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(output, text)
