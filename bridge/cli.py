"""The ``bridge`` command; with its ``bridge.cli_*`` sub-command modules, the only code that prints.

Every error the bridge raises on purpose reaches ``main`` and becomes a message
saying what to do next, with a meaningful exit code; tracebacks only with --debug.

Exit codes: 0 done; 1 a route failed this cycle (see the message and the ledger);
2 the configuration or a mapping file is wrong; 3 another bridge error.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bridge import __version__
from bridge.cli_common import (
    ConfigOption,
    cycle_each,
    load_settings,
    open_dry_run_ledger,
    open_ledger,
)
from bridge.cli_health import connector_health_table
from bridge.cli_metrics import metrics_writer
from bridge.errors import BridgeError, ConfigError
from bridge.ledger import Ledger, RouteStatus
from bridge.ledger_guard import open_for_cycles
from bridge.log import configure_logging, failure_reason
from bridge.mapping import check_mappings, load_mapping
from bridge.scheduler import run_daemon
from bridge.sync import CycleOptions, CycleReport, build_routes, close_routes

app = typer.Typer(
    name="bridge",
    help="Sync public-service complaints between SP4N-LAPOR! and local complaint systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
mapping_app = typer.Typer(
    help="Check mapping files and try them on a record.", no_args_is_help=True
)
app.add_typer(mapping_app, name="mapping")

out = Console()
err = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the bridge's version."""
    out.print(f"lapor-bridge {__version__}")


@app.command()
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
    settings = load_settings(config, log_format=None)
    ledger = open_for_cycles(settings)
    routes = build_routes(settings, ledger)
    intervals = {r.name: (r.interval_seconds, r.jitter_seconds) for r in settings.routes}
    lease_ttl = timedelta(seconds=settings.daemon.lease_seconds)
    on_cycle = metrics_writer(settings, ledger) if settings.daemon.metrics_file else None
    try:
        code = run_daemon(
            routes, intervals, replica=replica, lease_ttl=lease_ttl, on_cycle=on_cycle
        )
    finally:
        close_routes(routes)
        ledger.close()
    raise typer.Exit(code)


@app.command()
def sync(
    config: ConfigOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run one cycle of each route and exit (the default).")
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be done; write nothing anywhere.")
    ] = False,
    route: Annotated[str | None, typer.Option("--route", "-r", help="Only this route.")] = None,
) -> None:
    """Run one sync cycle of every route (or one route) and report what was done."""
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
        _print_report(report)
    for message in held:
        err.print(message, markup=False, highlight=False)
    raise typer.Exit(0 if all(r.ok for r in reports) and not held else 1)


@app.command()
def status(config: ConfigOption = None) -> None:
    """Per route: the last cycle, its counts and error, what waits, and which replica runs it."""
    settings = load_settings(config, log_format="console")
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        table = Table(title=f"lapor-bridge status — ledger {ledger.url_for_display}")
        for column in (
            "route",
            "last cycle",
            "ok",
            "counts",
            "lag",
            "linked",
            "pending",
            "set aside",
            "to review",
            "error",
        ):
            table.add_column(column)
        statuses = {route.name: ledger.cycles.status(route.name) for route in settings.routes}
        for name, st in statuses.items():
            table.add_row(*_status_row(name, st))
        health = connector_health_table(ledger)
        leases = _lease_table(ledger, [r.name for r in settings.routes])
    finally:
        ledger.close()
    out.print(table)
    # The columns "set aside" and "to review": say where a person sees which ones.
    if any(st.quarantined for st in statuses.values()):
        out.print("Set aside: bridge quarantine list")
    if any(st.reviews for st in statuses.values()):
        out.print("To review: bridge review list")
    out.print(leases)
    if health is not None:
        out.print(health)


@app.command()
def trace(
    complaint_id: Annotated[
        str, typer.Argument(help="A LAPOR! tracking id, a local system's id, or a bridge ref.")
    ],
    config: ConfigOption = None,
) -> None:
    """Show every linked record of a complaint and its history."""
    ledger = open_ledger(config)
    try:
        traces = ledger.history.find(complaint_id)
    finally:
        ledger.close()
    if not traces:
        err.print(f"No complaint with id or reference {complaint_id!r} in the ledger.")
        raise typer.Exit(1)
    for found in traces:
        _print_trace(found)


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its state between runs.")
    ] = Path(".demo"),
    count: Annotated[int, typer.Option(help="Complaints to seed into the local door.")] = 50,
) -> None:
    """Run the bridge end to end against simulated LAPOR! and SIDUMAS servers on loopback."""
    from bridge.demo import run_demo  # the demo pulls in the simulators; only load them here

    configure_logging("console", "warning")
    result = run_demo(directory, count=count)
    _print_demo(result)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def simulate(
    kind: Annotated[str, typer.Argument(help="Which simulator: lapor, sidumas or open311.")],
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = 8080,
    state: Annotated[
        Path | None,
        typer.Option(help="JSON file keeping the simulator's state (not for open311)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Complaints to seed when the state is empty.")] = 0,
    faults: Annotated[
        str | None,
        typer.Option(
            help="Faults to inject from the start, e.g. "
            '"error_rate=0.1,latency_ms=50,rate_limit_rate=0.05,retry_after=2,seed=7" '
            "(the keys POST /_sim/faults takes)."
        ),
    ] = None,
) -> None:
    """Serve a simulated LAPOR! v3, SIDUMAS or Open311 API on 127.0.0.1 for tests and demos."""
    # The simulators are imported only here: the package itself is cheap, the apps are not.
    from simulators import KINDS, run_cli
    from simulators.faults import FaultError, parse_spec

    problems = [] if kind in KINDS else [f"unknown simulator {kind!r}: choose {', '.join(KINDS)}"]
    if kind == "open311" and state:
        problems.append("--state: the open311 simulator keeps its state in memory only; drop it")
    try:
        switches = parse_spec(faults) if faults else {}
    except FaultError as exc:
        problems += [f"--faults: {problem}" for problem in exc.problems]
    if problems:
        raise ConfigError(problems, source="bridge simulate")
    out.print(f"Serving the {kind} simulator on http://127.0.0.1:{port} (Ctrl-C to stop)")
    run_cli(kind, port, str(state) if state else None, seed, faults=switches)


@mapping_app.command("check")
def mapping_check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Mapping files (default: every mappings/*.toml)."),
    ] = None,
) -> None:
    """Validate mapping files; every problem is listed with its key and the fix."""
    paths = files or sorted(Path("mappings").glob("*.toml"))
    if not paths:
        raise ConfigError(["no mapping files found: pass their paths, or run from the repo root"])
    problems = check_mappings(paths)
    for path, found in problems.items():
        if found:
            err.print(f"[red]✗[/red] {path}")
            for problem in found:
                err.print(f"    - {problem}")
        else:
            out.print(f"[green]✓[/green] {path}")
    raise typer.Exit(2 if any(problems.values()) else 0)


@mapping_app.command("try")
def mapping_try(
    mapping: Annotated[Path, typer.Argument(help="The mapping file.")],
    record: Annotated[Path, typer.Argument(help="A native record as a JSON file.")],
) -> None:
    """Print the canonical complaint a native record becomes, and the record it maps back to."""
    loaded = load_mapping(mapping)
    try:
        native = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{record}: cannot read it as JSON ({exc})"]) from None
    complaint = loaded.to_canonical(native)
    out.print("[bold]Canonical complaint[/bold]")
    out.print_json(complaint.model_dump_json(exclude={"attachments": {"__all__": {"content"}}}))
    out.print("[bold]Mapped back to the native record[/bold]")
    out.print_json(json.dumps(loaded.to_native(complaint), ensure_ascii=False, default=str))


def _print_report(report: CycleReport) -> None:
    title = f"route {report.route}" + (" — dry run, nothing written" if report.dry_run else "")
    table = Table(title=title)
    for column in ("action", "source id", "ticket", "ref", "target id", "reason"):
        table.add_column(column)
    for line in report.lines:
        if line.action == "skip" and line.reason == "unchanged":
            continue  # the summary counts them; listing thousands of unchanged rows helps no one
        table.add_row(
            line.action,
            line.source_id,
            line.ticket or "",
            line.ref or "",
            line.target_id or "",
            line.reason or "",
        )
    if table.row_count:
        out.print(table)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing to do"
    out.print(f"[bold]{report.route}[/bold]: {summary}")
    if report.error:
        err.print(f"[red]route {report.route} stopped:[/red] {report.error}")
    if report.paused:
        err.print(f"[yellow]route {report.route} waits:[/yellow] {report.paused}")
    for note in report.notes:
        out.print(f"[yellow]route {report.route} note:[/yellow] ", end="")
        out.print(note, markup=False, highlight=False)


def _lease_table(ledger: Ledger, routes: list[str]) -> Table:
    """Which replica runs each route, under which run number, until when (or "free")."""
    now = datetime.now(UTC)
    known = {info.route: info for info in ledger.leases.listed()}
    table = Table(title="Route leases")
    for column in ("route", "holder", "run", "expires"):
        table.add_column(column)
    for route in routes:
        info = known.get(route)
        run = str(info.run_number) if info is not None else "0"
        if info is None or info.is_free(now) or info.expires_at is None:
            table.add_row(route, "free", run, "")
        else:
            until = info.expires_at.isoformat(timespec="seconds")
            table.add_row(route, info.holder or "", run, until)
    return table


def _status_row(route: str, st: RouteStatus) -> list[str]:
    last = st.last_cycle
    return [
        route,
        str(last.finished_at or last.started_at) if last else "never",
        ("yes" if last.ok else "no") if last else "",
        ", ".join(f"{k} {v}" for k, v in sorted(last.counts.items())) if last else "",
        st.lag_text(),
        str(st.linked),
        str(st.pending_creates),
        str(st.quarantined),
        str(st.reviews),
        (last.error or "") if last else "",
    ]


def _print_trace(found: object) -> None:
    from bridge.ledger import ComplaintTrace

    assert isinstance(found, ComplaintTrace)
    out.print(f"[bold]Complaint {found.ref}[/bold] (first seen in {found.origin_system})")
    if found.status:
        by = f", set by {found.status_system}" if found.status_system else ""
        out.print(f"Status: [bold]{found.status}[/bold] since {found.status_at}{by}")
    links = Table(title="Linked records")
    for column in ("system", "id", "raw status", "last seen"):
        links.add_column(column)
    for link in found.links:
        raw = " ".join(x for x in (link.raw_status_code, link.raw_status_label) if x)
        links.add_row(link.system, link.remote_id, raw, str(link.seen_at or ""))
    out.print(links)
    if found.followups:
        followups = Table(title="Follow-ups (tindak lanjut)")
        for column in ("fingerprint", "written in", "copies"):
            followups.add_column(column)
        for followup in found.followups:
            copies = ", ".join(
                f"{c.system} {c.remote_id or '?'} ({c.state})" for c in followup.copies.values()
            )
            followups.add_row(followup.fingerprint[:12], followup.origin_system, copies)
        out.print(followups)
    history = Table(title="History")
    for column in ("when", "route", "what", "system", "detail"):
        history.add_column(column)
    for event in found.events:
        history.add_row(
            str(event.at), event.route or "", event.kind, event.system or "", event.detail or ""
        )
    out.print(history)


def _print_demo(result: object) -> None:
    from bridge.demo import DemoResult

    assert isinstance(result, DemoResult)
    out.print(f"LAPOR! simulator:  {result.lapor_url}")
    out.print(f"SIDUMAS simulator: {result.sidumas_url}  ({result.seeded} complaints)")
    table = Table(title="SIDUMAS → LAPOR!: local ticket → LAPOR! tracking id")
    for column in ("SIDUMAS ticket", "SIDUMAS id", "LAPOR! tracking id", "this run"):
        table.add_column(column)
    for row in result.links:
        table.add_row(row.ticket, row.local_id, row.tracking_id, row.note)
    out.print(table)
    out.print(
        f"[bold]{result.created_in_lapor} created in LAPOR![/bold] this run "
        f"({result.already_linked} were already there; {result.lapor_total} linked in all); "
        f"[bold]{result.created_in_sidumas} LAPOR! dispositions created in SIDUMAS[/bold]."
    )
    for story in result.stories:
        state = "appears" if story.copied else "does NOT appear (yet)"
        out.print(
            f"Follow-up typed in {story.where}: “{story.text}” {state} in {story.copied_to}, "
            f"whose status is now [bold]{story.status_there}[/bold]."
        )
    for report in result.reports:
        summary = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing"
        out.print(f"  {report.route}: {summary}")
        if report.error:
            err.print(f"[red]route {report.route} stopped:[/red] {report.error}")
    out.print(f"Ledger: {result.ledger_url}. Run `make demo` again: nothing is created twice.")


def main() -> None:
    """Entry point of the ``bridge`` console script."""
    try:
        code = app(prog_name="bridge", standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: the command line is wrong
        show = getattr(exc, "show", None)  # usage errors print the usage line and a hint
        if callable(show):
            show()
        else:
            err.print(exc.format_message(), markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrupted.")
        sys.exit(130)
    except ConfigError as exc:
        _fail(exc, f"{exc}\nFix the problem(s) above, then run the command again.", 2)
    except BridgeError as exc:
        _fail(exc, f"{type(exc).__name__}: {exc}", 3)
    except Exception as exc:  # noqa: BLE001 - a bug still gets one line, not a traceback
        hint = "this is a bug in the bridge: run the command again with --debug and report it"
        _fail(exc, f"{failure_reason(exc)}\n{hint}", 3)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(exc: BaseException, message: str, code: int) -> None:
    if _state["debug"]:
        err.print_exception()
    err.print("[red]error:[/red] ", end="")
    # Messages quote file keys like [fields.title]: print them literally, not as markup.
    err.print(message, markup=False, highlight=False)
    sys.exit(code)


from bridge.cli_backfill import backfill as _backfill  # noqa: E402

app.command("backfill")(_backfill)

from bridge.cli_quarantine import quarantine_app  # noqa: E402

app.add_typer(quarantine_app, name="quarantine")

from bridge.cli_ledger import ledger_app  # noqa: E402
from bridge.cli_review import review_app  # noqa: E402

app.add_typer(review_app, name="review")
app.add_typer(ledger_app, name="ledger")

from bridge.cli_metrics import metrics as _metrics  # noqa: E402

app.command("metrics")(_metrics)
