"""How the ``bridge`` commands print: the two consoles, times, reasons, tables and reports.

Only the CLI prints, and the tables and reports it prints are drawn here, so a command
module holds what a command does and this one how its results look. Reasons and ids
quote data ("[fields.title]"): they are printed as plain text, never as rich markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from bridge.ledger import ComplaintTrace, Ledger, RouteStatus
from bridge.privacy import neutralise
from bridge.sync import BackfillSummary, CycleReport

if TYPE_CHECKING:
    from bridge.demo import DemoResult  # the demo pulls in the simulators: not at run time


class _SafeConsole(Console):
    """A console on which data never acts on the terminal (``bridge.privacy.neutralise``).

    Every text segment is neutralised once rendered, whatever built it (a str, a Text, a
    table cell); rich's own colours are added after, from styles, so they still work.
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and segment.text:
                yield Segment(neutralise(segment.text), segment.style)
            else:
                yield segment


out = _SafeConsole()
err = _SafeConsole(stderr=True)
REASON_WIDTH = 90
# The engine and the ledger's cycle counts call quarantining a record "set_aside";
# a person reads the one word the commands and the docs use.
ACTION_WORDS = {"set_aside": "quarantine"}


def when(at: datetime) -> str:
    """A moment as a person reads it, in UTC to the second."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shortened(text: str, width: int = REASON_WIDTH) -> str:
    """A long reason cut to fit a table cell, with an ellipsis where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def action_word(action: str) -> str:
    """The word a person reads for one of the engine's actions ("create", "quarantine")."""
    return ACTION_WORDS.get(action, action)


def counts(report_counts: Mapping[str, int]) -> str:
    """A cycle's counts as one line: "create 3, skip 12"."""
    words = sorted((action_word(k), v) for k, v in report_counts.items())
    return ", ".join(f"{k} {v}" for k, v in words)


def text_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> Table:
    """A table whose cells are plain text: a reason may hold brackets ("[fields.title]")
    that rich would otherwise take for markup."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*map(Text, row))
    return table


def print_report(report: CycleReport) -> None:
    """A route's cycle: what it did record by record, its counts, and why it stopped or waits."""
    title = f"route {report.route}" + (" — dry run, nothing written" if report.dry_run else "")
    table = Table(title=title)
    for column in ("action", "source id", "ticket", "ref", "target id", "reason"):
        table.add_column(column)
    for line in report.lines:
        if line.action == "skip" and line.reason == "unchanged":
            continue  # the summary counts them; listing thousands of unchanged rows helps no one
        table.add_row(
            action_word(line.action),
            line.source_id,
            line.ticket or "",
            line.ref or "",
            line.target_id or "",
            line.reason or "",
        )
    if table.row_count:
        out.print(table)
    out.print(f"[bold]{report.route}[/bold]: {counts(report.counts) or 'nothing to do'}")
    if report.error:
        err.print(f"[red]route {report.route} stopped:[/red] {report.error}")
    if report.paused:
        err.print(f"[yellow]route {report.route} waits:[/yellow] {report.paused}")
    for note in report.notes:
        out.print(f"[yellow]route {report.route} note:[/yellow] ", end="")
        out.print(note, markup=False, highlight=False)


def status_table(ledger_name: str, statuses: Mapping[str, RouteStatus]) -> Table:
    """``bridge status``'s first table: one row per route."""
    table = Table(title=f"lapor-bridge status — ledger {ledger_name}")
    columns = ("route", "last cycle", "ok", "counts", "lag", "linked", "pending")
    for column in (*columns, "quarantined", "to review", "error"):
        table.add_column(column)
    for route, st in statuses.items():
        last = st.last_cycle
        table.add_row(
            route,
            str(last.finished_at or last.started_at) if last else "never",
            ("yes" if last.ok else "no") if last else "",
            counts(last.counts) if last else "",
            st.lag_text(),
            str(st.linked),
            str(st.pending_creates),
            str(st.quarantined),
            str(st.reviews),
            (last.error or "") if last else "",
        )
    return table


def lease_table(ledger: Ledger, routes: list[str]) -> Table:
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


def health_table(ledger: Ledger, now: datetime | None = None) -> Table | None:
    """Systems that failed lately, and which are paused; None when every system is healthy."""
    unhealthy = [h for h in ledger.health.listed() if h.failures]
    if not unhealthy:
        return None
    now = now or datetime.now(UTC)
    table = Table(title="systems failing")
    for column in ("connector", "state", "failures in a row", "last error"):
        table.add_column(column)
    for health in unhealthy:
        if health.paused_at(now):
            assert health.paused_until is not None
            until = health.paused_until.astimezone(UTC).isoformat(timespec="seconds")
            state = f"[red]paused[/red] until {until}"
        else:
            state = "[yellow]retrying[/yellow]"
        table.add_row(health.connector, state, str(health.failures), health.last_error or "")
    return table


def print_trace(found: ComplaintTrace) -> None:
    """One complaint: its status, its record in each system, its follow-ups and history."""
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


def print_demo(result: DemoResult) -> None:
    """What the demo did: the links it made both ways, and where each follow-up went."""
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
        out.print(f"  {report.route}: {counts(report.counts) or 'nothing'}")
        if report.error:
            err.print(f"[red]route {report.route} stopped:[/red] {report.error}")
    out.print(f"Ledger: {result.ledger_url}. Run `make demo` again: nothing is created twice.")


def print_backfill(summary: BackfillSummary) -> None:
    """A backfill's figures as a table on stdout; an interruption or error on stderr."""
    would = "would be " if summary.dry_run else ""
    title = f"backfill of route {summary.route}" + (
        " — dry run, nothing written" if summary.dry_run else ""
    )
    table = Table(title=title)
    table.add_column("complaints")
    table.add_column("count", justify="right")
    table.add_row("in the window", str(summary.total_in_window))
    table.add_row(f"{would}created", str(summary.created))
    linked_by = counts(summary.linked_by)
    table.add_row(f"{would}linked (already there){_paren(linked_by)}", str(summary.linked))
    table.add_row("already linked by an earlier run", str(summary.already_linked))
    table.add_row(f"{would}withheld (confidential)", str(summary.withheld))
    table.add_row(f"{would}quarantined", str(summary.set_aside))
    for reason, count in summary.set_aside_reasons.most_common():
        table.add_row(Text(f"  {reason}"), str(count))  # reasons quote data: no markup
    if summary.skipped:
        table.add_row("skipped (listed twice)", str(summary.skipped))
    if summary.unconfirmed:
        table.add_row("not confirmed yet (run again)", str(summary.unconfirmed))
    out.print(table)
    out.print(f"{summary.elapsed:,.1f} s, {summary.rate:,.0f} complaints/s")
    if summary.interrupted:
        err.print(
            "[yellow]Interrupted.[/yellow] Everything done so far is recorded; run the same "
            "command again to carry on (nothing is sent twice)."
        )
    if summary.error:
        err.print(f"[red]route {summary.route} stopped:[/red] ", end="")
        err.print(summary.error, markup=False, highlight=False)


def _paren(text: str) -> str:
    return f" ({text})" if text else ""


def rebuild_table(reports: list[CycleReport], applied: bool) -> Table:
    """``bridge ledger rebuild``'s figures, one row per route."""
    # A dry run calls "create" what an applied rebuild reports as "not_found".
    rows = [
        (
            r.route,
            str(r.counts["link"]),
            str(r.counts["not_found"] + r.counts["create"]),
            str(r.counts["skip"]),
            str(r.counts["withhold"] + r.counts["deferred"]),
            str(r.counts["set_aside"]),
        )
        for r in reports
    ]
    title = "Links rebuilt" if applied else "Links a rebuild would write (dry run)"
    columns = ("route", "linked", "not in target", "known already", "held back", "quarantined")
    return text_table(title, columns, rows)
