"""``bridge metrics``: the bridge's state as Prometheus text (see ``bridge.daemon.metrics``).

The daemon's own metrics file is written by ``bridge.cli.run.metrics_writer``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from prometheus_client.parser import text_string_to_metric_families

from bridge.cli.as_json import echo
from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption, JsonOption


def metrics(
    config: ConfigOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (replaced atomically)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the bridge's state as Prometheus metrics (or write them to a file)."""
    from bridge.daemon import render_metrics, write_atomically
    from bridge.ledger import Ledger

    settings = load_settings(config, log_format="console")
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        text = render_metrics(ledger, settings)
    finally:
        ledger.close()
    if as_json:
        echo(
            [
                {"name": s.name, "labels": s.labels, "value": s.value}
                for family in text_string_to_metric_families(text)
                for s in family.samples
            ]
        )
    elif output is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(output, text)
