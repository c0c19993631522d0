"""What the ``bridge`` commands share besides printing: loading the configuration, opening
the ledger as a person's command should, and running cycles a person asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bridge.cli.render import use_zone
from bridge.log import configure_logging

if TYPE_CHECKING:
    from bridge.config import BridgeConfig
    from bridge.ledger import Ledger
    from bridge.sync import CycleOptions, CycleReport, Route


def load_settings(path: Path | None, *, log_format: str | None) -> BridgeConfig:
    """The configuration, with logging set up for a person (``log_format``) or the daemon."""
    from bridge.config import load_config

    # Log set-up comes first so that warnings raised while loading are redacted too.
    configure_logging("console" if log_format else "json", "warning")
    settings = load_config(path)
    fmt = log_format or settings.daemon.log_format
    if fmt == "auto" and log_format is None:
        fmt = "json"  # the daemon logs JSON lines: it runs under a supervisor, not a person
    configure_logging(fmt, settings.daemon.log_level)  # type: ignore[arg-type]
    use_zone(ZoneInfo(settings.daemon.time_zone))  # times shown as the agency reads them
    return settings


def open_ledger(config: Path | None) -> Ledger:
    """The configured ledger, for a command a person runs: never created nor migrated."""
    from bridge.ledger import Ledger

    return Ledger.open(load_settings(config, log_format="console").ledger.url, create=False)


def open_dry_run_ledger(url: str) -> Ledger:
    """A dry run writes nothing, not even a new ledger: a missing one reads as empty."""
    from bridge.ledger import Ledger, LedgerMissing

    try:
        return Ledger.open(url, create=False)
    except LedgerMissing:
        return Ledger.open("sqlite://")  # in memory: gone when the dry run ends


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
    from bridge.daemon import RouteLeases, replica_name
    from bridge.sync import run_cycle

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
