"""``bridge run`` (the daemon) and ``bridge sync`` (one cycle a person asked for)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import structlog
import typer

from bridge.cli.common import cycle_each, load_settings, open_dry_run_ledger
from bridge.cli.options import ConfigOption, RouteOption
from bridge.cli.render import err, print_report
from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.config import BridgeConfig
    from bridge.ledger import Ledger
    from bridge.sync import CycleReport


def run(
    config: ConfigOption = None,
    replica: Annotated[
        str | None,
        typer.Option(
            "--replica",
            help="This bridge's name in the route leases, as `bridge status` and the logs show "
            "it (default: <hostname>:<pid>); which process holds a lease is proved by its "
            "machine and process identity, not by this name.",
        ),
    ] = None,
) -> None:
    """Run the daemon: every route on its schedule, until SIGTERM or Ctrl-C."""
    from bridge.daemon import StatusService, open_for_cycles, run_daemon
    from bridge.sync import build_routes, close_routes

    settings = load_settings(config, log_format=None)
    ledger = open_for_cycles(settings)
    routes = build_routes(settings, ledger)
    intervals = {r.name: (r.interval_seconds, r.jitter_seconds) for r in settings.routes}
    lease_ttl = timedelta(seconds=settings.daemon.lease_seconds)
    hooks = [metrics_writer(settings, ledger)] if settings.daemon.metrics_file else []
    service = StatusService(settings, ledger) if settings.daemon.http else None
    try:
        if service is not None:
            service.start()
            hooks.append(service.on_cycle)
        code = run_daemon(
            routes,
            intervals,
            replica=replica,
            lease_ttl=lease_ttl,
            on_cycle=_each(hooks) if hooks else None,
            running=service.running if service is not None else None,
            daily=retention_purge(settings, ledger),
        )
    finally:
        if service is not None:
            service.stop()
        close_routes(routes)
        ledger.close()
    raise typer.Exit(code)


def _each(hooks: list[Callable[[CycleReport], None]]) -> Callable[[CycleReport], None]:
    def call(report: CycleReport) -> None:
        for hook in hooks:
            hook(report)

    return call


def retention_purge(settings: BridgeConfig, ledger: Ledger) -> Callable[[], None] | None:
    """The daemon's daily purge of old set-aside payloads; None when they are kept for ever."""
    days = settings.ledger.quarantine_retention_days
    if days == 0:
        return None

    def purge() -> None:
        purged = ledger.quarantine.purge(days)
        structlog.get_logger("bridge.privacy").info(
            "quarantine.purged", count=len(purged), retention_days=days
        )

    return purge


def metrics_writer(settings: BridgeConfig, ledger: Ledger) -> Callable[[CycleReport], None]:
    """After every cycle, rewrite ``daemon.metrics_file``; a failure is logged, never fatal."""
    from bridge.daemon import render_metrics, write_atomically

    assert settings.daemon.metrics_file is not None
    path = Path(settings.daemon.metrics_file)

    def write(_report: CycleReport) -> None:
        try:
            write_atomically(path, render_metrics(ledger, settings))
        except (OSError, BridgeError) as exc:
            structlog.get_logger("bridge.metrics").warning(
                "metrics.write_failed", path=str(path), error=type(exc).__name__
            )

    return write


def sync(
    config: ConfigOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run one cycle of each route and exit (the default).")
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be done; write nothing anywhere.")
    ] = False,
    route: RouteOption = None,
) -> None:
    """Run one sync cycle of every route (or one route) and report what was done."""
    from bridge.daemon import open_for_cycles
    from bridge.sync import CycleOptions, build_routes, close_routes

    settings = load_settings(config, log_format="console")
    ledger = open_dry_run_ledger(settings.ledger.url) if dry_run else open_for_cycles(settings)
    routes = build_routes(settings, ledger, only=route)
    try:
        # A person asked for this cycle: it runs even while a system is paused.
        options = CycleOptions(dry_run=dry_run, respect_pause=False)
        reports, held = cycle_each(routes, ledger, options, settings.daemon.lease_seconds)
    finally:
        close_routes(routes)
        ledger.close()
    for report in reports:
        print_report(report)
    for message in held:
        err.print(message, markup=False, highlight=False)
    raise typer.Exit(0 if all(r.ok for r in reports) and not held else 1)
