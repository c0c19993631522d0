"""``bridge metrics``, and the daemon's metrics file: see ``bridge.metrics``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import structlog
import typer

from bridge.cli_common import ConfigOption, load_settings
from bridge.config import BridgeConfig
from bridge.daemon import render_metrics, write_atomically
from bridge.errors import BridgeError
from bridge.ledger import Ledger
from bridge.sync import CycleReport


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


def metrics_writer(settings: BridgeConfig, ledger: Ledger) -> Callable[[CycleReport], None]:
    """After every cycle, rewrite ``daemon.metrics_file``; a failure is logged, never fatal."""
    assert settings.daemon.metrics_file is not None
    path = Path(settings.daemon.metrics_file)
    names = [r.name for r in settings.routes]

    def write(_report: CycleReport) -> None:
        try:
            write_atomically(path, render_metrics(ledger, names))
        except (OSError, BridgeError) as exc:
            structlog.get_logger("bridge.metrics").warning(
                "metrics.write_failed", path=str(path), error=type(exc).__name__
            )

    return write
