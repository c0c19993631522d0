"""What the ``bridge`` sub-commands share: their options, loading the configuration, and
how a time or a long reason is printed.

Loading lives here, not in ``bridge.cli``, so that a sub-command module can import it at
its top: ``bridge.cli`` registers the sub-commands, so they cannot import it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from bridge.config import BridgeConfig, load_config
from bridge.ledger import Ledger, LedgerMissing
from bridge.log import configure_logging
from bridge.scheduler import RouteLeases, replica_name
from bridge.sync import CycleOptions, CycleReport, Route, run_cycle

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration file (default: $BRIDGE_CONFIG, else ./bridge.toml).",
    ),
]
RouteOption = Annotated[str | None, typer.Option("--route", "-r", help="Only this route.")]
REASON_WIDTH = 90


def load_settings(path: Path | None, *, log_format: str | None) -> BridgeConfig:
    """The configuration, with logging set up for a person (``log_format``) or the daemon."""
    # Log set-up comes first so that warnings raised while loading are redacted too.
    configure_logging("console" if log_format else "json", "warning")
    settings = load_config(path)
    fmt = log_format or settings.daemon.log_format
    if fmt == "auto" and log_format is None:
        fmt = "json"  # the daemon logs JSON lines: it runs under a supervisor, not a person
    configure_logging(fmt, settings.daemon.log_level)  # type: ignore[arg-type]
    return settings


def open_ledger(config: Path | None) -> Ledger:
    """The configured ledger, for a command a person runs: never created nor migrated."""
    return Ledger.open(load_settings(config, log_format="console").ledger.url, create=False)


def open_dry_run_ledger(url: str) -> Ledger:
    """A dry run writes nothing, not even a new ledger: a missing one reads as empty."""
    try:
        return Ledger.open(url, create=False)
    except LedgerMissing:
        return Ledger.open("sqlite://")  # in memory: gone when the dry run ends


def when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shortened(text: str, width: int = REASON_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def text_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A table whose cells are plain text: a reason may hold brackets ("[fields.title]")
    that rich would otherwise take for markup."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*map(Text, row))
    return table


def lease_holder(ledger: Ledger, route: str) -> tuple[str | None, str]:
    """Who holds ``route``'s lease (None: unknown) and until when, as a person reads them."""
    info = ledger.leases.of(route)
    holder = info.holder if info is not None else None
    until = info.expires_at.isoformat(timespec="seconds") if info and info.expires_at else "?"
    return holder, until


def cycle_each(
    routes: Sequence[Route], ledger: Ledger, options: CycleOptions, lease_seconds: float
) -> tuple[list[CycleReport], list[str]]:
    """One cycle of each route, asked for by a person; the reports, and one message per
    route another bridge holds.

    A real cycle runs under the route's lease, like the daemon's, so it never runs beside
    a daemon's cycle of the same route; a dry run writes nothing and needs none.
    """
    leases = RouteLeases(replica_name(), timedelta(seconds=lease_seconds))
    reports: list[CycleReport] = []
    held: list[str] = []
    try:
        for route in routes:
            if options.dry_run:
                reports.append(run_cycle(route, options=options))
            elif (report := leases.run(route, options)) is not None:
                reports.append(report)
            else:
                held.append(held_elsewhere(ledger, route.name))
    finally:
        leases.release_all()
    return reports, held


def held_elsewhere(ledger: Ledger, route: str) -> str:
    """Why a route was not run: which bridge holds its lease, until when, what to do."""
    holder, until = lease_holder(ledger, route)
    return (
        f"route {route} not run: another bridge ({holder or 'unknown'}) is running it and holds "
        f"its lease until {until}. Let that bridge run it, or stop it and run this again."
    )
