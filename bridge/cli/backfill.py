"""``bridge backfill``: the command around ``bridge.sync.backfill.run_backfill``.

A progress bar on stderr while it runs, then a summary table on stdout
(``bridge.cli.render.print_backfill``), or the summary as JSON with ``--json``.
Exit codes: 0 done; 130 interrupted (rerun the same command to resume); 1 the route
stopped with an error; 2 the configuration or the arguments are wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bridge.cli.common import lease_holder, load_settings, open_dry_run_ledger
from bridge.cli.options import ConfigOption
from bridge.cli.render import err, print_backfill
from bridge.errors import ConfigError

if TYPE_CHECKING:
    from bridge.ledger import Ledger
    from bridge.sync import BackfillProgress, BackfillSummary

EXIT_INTERRUPTED = 130
_PER = {"s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*([a-z]+))?\s*$")


def backfill(
    route: Annotated[
        str, typer.Option("--route", "-r", help="The route to backfill, as named in the config.")
    ],
    since: Annotated[
        datetime,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="First day to send (YYYY-MM-DD), in the source's time zone.",
        ),
    ],
    until: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Stop before this day (YYYY-MM-DD, not included). Default: up to now.",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(help="Handle at most this many complaints, then stop (try a few first)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what would be created and linked; write nothing."),
    ] = False,
    rate: Annotated[
        str | None,
        typer.Option(
            help="At most this many creates, e.g. 5/s, 120/min or 3000/h (default: no limit)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the summary, as JSON; no progress bar.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Send a route's past complaints (created since a date) to its target, exactly once.

    What the target already holds is linked, not created again (by reference or natural key).

    Complaints already sent are skipped. Run it with --dry-run first to see what it would do.

    Ctrl-C stops it safely; running the same command again carries on where it stopped.

    Cost: the source is read twice (once to count, for the progress bar), the target once.
    """
    per_second = parse_rate(rate)
    last_day = until.date() if until else None
    summary = _run(config, route, since.date(), last_day, limit, dry_run, per_second, as_json)
    if as_json:
        typer.echo(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    else:
        print_backfill(summary)
    if summary.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(0 if summary.ok else 1)


def parse_rate(text: str | None) -> float | None:
    """``"5/s"``, ``"120/min"``, ``"3000/h"`` or ``"5"`` → creates per second."""
    if text is None:
        return None
    match = _RATE.match(text.lower())
    unit = (match.group(2) or "s") if match else None
    if match is None or unit not in _PER or float(match.group(1)) <= 0:
        raise ConfigError(
            [
                f"--rate {text!r}: write a number of creates per second, minute or hour, "
                f"e.g. 5/s, 120/min or 3000/h"
            ],
            source="bridge backfill",
        )
    return float(match.group(1)) / _PER[unit]


def _run(
    config: Path | None,
    route_name: str,
    since: date,
    until: date | None,
    limit: int | None,
    dry_run: bool,
    rate: float | None,
    as_json: bool,
) -> BackfillSummary:
    from bridge.daemon import open_for_cycles
    from bridge.sync import build_routes, close_routes, run_backfill

    settings = load_settings(config, log_format="console")
    ledger = open_dry_run_ledger(settings.ledger.url) if dry_run else open_for_cycles(settings)
    routes = build_routes(settings, ledger, only=route_name)
    ttl = timedelta(seconds=settings.daemon.lease_seconds)
    try:
        # Like a daemon's cycle, a real backfill runs under the route's lease: it never
        # creates beside a daemon working the same route (both could send one complaint).
        with (
            _route_lease(ledger, route_name, ttl, needed=not dry_run),
            _progress_bar(disabled=as_json) as show,
        ):
            return run_backfill(
                routes[0],
                since=since,
                until=until,
                limit=limit,
                dry_run=dry_run,
                rate=rate,
                progress=show,
            )
    finally:
        close_routes(routes)
        ledger.close()


@contextmanager
def _route_lease(ledger: Ledger, route: str, ttl: timedelta, *, needed: bool) -> Iterator[None]:
    from bridge.daemon import replica_name
    from bridge.replica import ReplicaIdentity

    if not needed:
        yield
        return
    lease = ledger.leases.claim(
        route, replica_name(), ttl, identity=ReplicaIdentity.of_this_process()
    )
    if lease is None:
        holder, until = lease_holder(ledger, route)
        raise ConfigError(
            [
                f"route {route!r} is being run by {holder or 'another bridge'} (lease until "
                f"{until}); stop that daemon, or disable the route in its configuration, "
                "then run the backfill"
            ],
            source="bridge backfill",
        )
    try:
        with ledger.leases.fenced(lease, ttl):
            yield
    finally:
        ledger.leases.release(lease)


@contextmanager
def _progress_bar(*, disabled: bool) -> Iterator[_Show]:
    """A rich progress bar on stderr; silent when stderr is not a terminal or with --json."""
    progress = Progress(
        TextColumn("[bold]backfill[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=disabled or not err.is_terminal,
        transient=False,
    )
    with progress:
        task = progress.add_task("backfill", total=None, rate="")
        yield _Show(progress, task)


class _Show:
    """The progress callback: moves the bar to the backfill's latest figures."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def __call__(self, update: BackfillProgress) -> None:
        per_second = update.done / update.elapsed if update.elapsed > 0 else 0.0
        self._progress.update(
            self._task, completed=update.done, total=update.total, rate=f"{per_second:,.0f}/s"
        )
