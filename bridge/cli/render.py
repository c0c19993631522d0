"""How the ``bridge`` commands print: the two consoles, times, reasons, tables and reports.

Only the CLI prints, and the tables and reports it prints are drawn here, so a command
module holds what a command does and this one how its results look. Reasons and ids
quote data ("[fields.title]"): they are printed as plain text, never as rich markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.markup import escape
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from bridge.privacy import neutralise

if TYPE_CHECKING:
    from bridge.demo import DemoResult  # the demo pulls in the simulators: not at run time
    from bridge.ledger import ComplaintTrace, Ledger, RouteStatus
    from bridge.sync import BackfillSummary, CycleReport


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
# What a person reads under a summary of counts: the words it uses, explained once.
ACTION_MEANINGS = {
    "create": "new record made in the target",
    "link": "matched to a record already in the target",
    "adopt": "an earlier copy in the target taken as the link",
    "change": "a linked record that changed at its source",
    "followup": "follow-ups (tindak lanjut) copied",
    "status": "statuses written",
    "forward": "forwarded as not this agency's (Bukan Wewenang)",
    "repoll": "linked complaints checked again for news",
    "skip": "nothing to do (unchanged, or not for this route)",
    "quarantine": "set aside with a reason (bridge quarantine list)",
    "withhold": "kept back (confidential, or the target cannot take it)",
}


_zone: list[tzinfo] = [UTC]  # the agency's, once the configuration is read (use_zone)


def use_zone(zone: tzinfo) -> None:
    """Show every time in ``zone`` from now on (``[daemon] time_zone``: the agency's)."""
    _zone[0] = zone


def when(at: datetime | None) -> str:
    """A moment as a person reads it: the agency's zone, to the second ("" for None)."""
    if at is None:
        return ""
    local = at.astimezone(_zone[0])
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


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


def item_list(title: str, items: Iterable[tuple[Sequence[str], str]]) -> Group:
    """Records one per block: a line of short facts, then the long reason wrapped under it,
    indented; readable at 80 columns where a table of eight columns is not. Plain text."""
    blocks: list[RenderableType] = [Text(title, style="bold")]
    for head, detail in items:
        blocks.append(Text("  ".join(cell for cell in head if cell)))
        if detail:
            blocks.append(Padding(Text(detail), (0, 0, 0, 4)))
    return Group(*blocks)


def print_report(report: CycleReport) -> None:
    """A route's cycle: what it did record by record, its counts, and why it stopped or waits."""
    title = f"route {report.route}" + (" — dry run, nothing written" if report.dry_run else "")
    listed = [
        (
            [
                action_word(line.action),
                f"source {line.source_id}",
                line.ticket or "",
                f"ref {line.ref}" if line.ref else "",
                f"→ {line.target_id}" if line.target_id else "",
            ],
            line.reason or "",
        )
        for line in report.lines
        # the summary counts them; listing thousands of unchanged rows helps no one
        if not (line.action == "skip" and line.reason == "unchanged")
    ]
    if listed:
        out.print(item_list(title, listed))
    route = escape(report.route)
    out.print(f"[bold]{route}[/bold]: {counts(report.counts) or 'nothing to do'}")
    if report.error:
        err.print(f"[red]route {route} stopped:[/red] {escape(report.error)}")
    if report.paused:
        err.print(f"[yellow]route {route} waits:[/yellow] {escape(report.paused)}")
    for note in report.notes:
        out.print(f"[yellow]route {route} note:[/yellow] ", end="")
        out.print(note, markup=False, highlight=False)


def status_table(ledger_name: str, statuses: Mapping[str, RouteStatus]) -> Group:
    """``bridge status``'s first part: one block per route, label and value, so that a long
    error wraps in its own column and the whole fits an 80-column terminal."""
    blocks: list[RenderableType] = [Text(f"lapor-bridge status — ledger {ledger_name}")]
    for route, st in statuses.items():
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        last = st.last_cycle
        if last is None:
            grid.add_row("last cycle", "never")
        else:
            outcome = "went through" if last.ok else "FAILED" if last.ok is False else "running"
            grid.add_row(
                "last cycle", Text(f"{when(last.finished_at or last.started_at)}, {outcome}")
            )
            if last.counts:
                grid.add_row("did", Text(counts(last.counts)))
            if last.error:
                grid.add_row("error", Text(last.error))  # quotes [fields.x]: never markup
        grid.add_row("behind by", Text(f"{st.lag_text()} (since the last good cycle)"))
        figures = (
            f"{st.linked} linked, {st.pending_creates} creates unconfirmed, "
            f"{st.quarantined} quarantined, {st.reviews} to review"
        )
        grid.add_row("records", Text(figures))
        blocks += [Text(""), Text(f"Route {route}", style="bold"), grid]
    return Group(*blocks, Text(""))


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
            table.add_row(Text(route), "free", run, "")
        else:
            table.add_row(Text(route), Text(info.holder or ""), run, when(info.expires_at))
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
            state = f"[red]paused[/red] until {when(health.paused_until)}"
        else:
            state = "[yellow]retrying[/yellow]"
        error = Text(health.last_error or "")
        table.add_row(Text(health.connector), state, str(health.failures), error)
    return table


def print_trace(found: ComplaintTrace) -> None:
    """One complaint: its status, its record in each system, its follow-ups and history."""
    origin = escape(found.origin_system)
    out.print(f"[bold]Complaint {escape(found.ref)}[/bold] (first seen in {origin})")
    if found.status:
        by = f", set by {escape(found.status_system)}" if found.status_system else ""
        since = when(found.status_at) or "?"
        out.print(f"Status: [bold]{escape(found.status)}[/bold] since {since}{by}")
    links = Table(title="Linked records")
    for column in ("system", "id", "ticket", "raw status", "last seen"):
        links.add_column(column)
    for link in found.links:
        raw = " ".join(x for x in (link.raw_status_code, link.raw_status_label) if x)
        cells = (link.system, link.remote_id, link.ticket or "", raw, when(link.seen_at))
        links.add_row(*map(Text, cells))
    out.print(links)
    if found.followups:
        followups = Table(title="Follow-ups (tindak lanjut)")
        for column in ("fingerprint", "written in", "copies"):
            followups.add_column(column)
        for followup in found.followups:
            copies = ", ".join(
                f"{c.system} {c.remote_id or '?'} ({c.state})" for c in followup.copies.values()
            )
            row = (followup.fingerprint[:12], followup.origin_system, copies)
            followups.add_row(*map(Text, row))
        out.print(followups)
    history = Table(title="History")
    for column in ("when", "route", "what", "system", "detail"):
        history.add_column(column)
    for event in found.events:
        cells = (when(event.at), event.route or "", event.kind, event.system or "", event.detail)
        history.add_row(*map(Text, cells))
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
        typed = escape(story.text)
        out.print(
            f"Follow-up typed in {story.where}: “{typed}” {state} in {story.copied_to}, "
            f"whose status is now [bold]{story.status_there}[/bold]."
        )
    out.print("The demo's cycles, in the order they ran (records per action):")
    for number, report in enumerate(result.reports, start=1):
        summary = counts(report.counts) or "nothing to do"
        out.print(f"  {number}. route {escape(report.route)}: {summary}", highlight=False)
        if report.error:
            err.print(f"[red]route {escape(report.route)} stopped:[/red] {escape(report.error)}")
    used = sorted(
        {action_word(a) for r in result.reports for a in r.counts} & ACTION_MEANINGS.keys()
    )
    if used:
        out.print("Where " + "; ".join(f"{a}: {ACTION_MEANINGS[a]}" for a in used) + ".")
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
