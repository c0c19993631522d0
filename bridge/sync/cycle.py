"""One route, one cycle: observe → plan → act, page by page.

For each page the source lists: ``bridge.sync.observe`` reads the facts,
``bridge.sync.plan`` decides the final action of every record, and ``bridge.sync.act``
carries them out and commits the page (see its docstring for the order of writes that
makes "nothing lost, nothing doubled" hold). Then ``bridge.sync.updates`` carries status
changes and follow-ups of linked complaints. A dry run prints the plan instead of acting
on it: it shares every decision with the real run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import datetime, timedelta

import structlog

from bridge.connector import NativeRecord
from bridge.errors import BridgeError, RetryableError, RouteError, SourceEmpty
from bridge.health import failing_connector
from bridge.log import failure_reason
from bridge.sync import adoption
from bridge.sync.act import Page, act, settle
from bridge.sync.facts import Observation
from bridge.sync.observe import observe
from bridge.sync.plan import Create, Link, plan
from bridge.sync.prefetch import read_ahead
from bridge.sync.quarantine import native_id, retries
from bridge.sync.report import CycleReport, line_for
from bridge.sync.route import CycleOptions, Route
from bridge.sync.skew_watch import NewestSeen, updated_at
from bridge.sync.updates import changed, read_only_note, repoll, reschedule, sync_linked

log = structlog.get_logger("bridge.engine")


def run_cycle(
    route: Route, *, dry_run: bool = False, options: CycleOptions | None = None
) -> CycleReport:
    """Run one cycle of ``route``. Errors that stop the route are recorded, not raised."""
    options = options or CycleOptions(dry_run=dry_run)
    dry_run = options.dry_run
    report = CycleReport(route=route.name, dry_run=dry_run, keep_lines=options.keep_lines)
    if (note := read_only_note(route)) is not None:
        report.notes.append(note)
    bound = log.bind(route=route.name, dry_run=dry_run)
    health = [] if dry_run else route.memory.connector_health()
    if options.respect_pause and (paused := [h for h in health if h.paused_at(route.clock())]):
        first = paused[0]
        assert first.paused_until is not None
        report.paused = (
            f"{first.connector} is paused until {first.paused_until.isoformat(timespec='seconds')} "
            f"after {first.failures} failed cycles in a row; last error: {first.last_error}"
        )
        bound.warning("route.cycle.paused", connector=first.connector, until=first.paused_until)
        return report
    run_id = None if dry_run else route.memory.start_cycle()
    bound.info("route.cycle.started")
    failure: BaseException | None = None  # a failure that got nothing done: held against a system
    newest = NewestSeen(route)
    try:
        _run_pages(route, report, options, newest)
    except KeyboardInterrupt:
        # Ctrl-C (a backfill at the keyboard): what the page in flight delivered is
        # committed already; close the cycle row, or `bridge status` shows it running.
        if run_id is not None:
            _finish_interrupted(route, run_id, report)
        raise
    except Exception as exc:  # noqa: BLE001 - any failure is this route's, never the bridge's
        # RetryableError and RouteError are expected; anything else (a bug, a RecursionError,
        # a UnicodeEncodeError from a header) fails this route alike, so the other routes
        # go on. (Records are set aside page by page: a RecordError here escaped its record.)
        report.error = failure_reason(exc)
        bound.warning("route.cycle.failed", error=report.error)
        if not isinstance(exc, RetryableError | RouteError):
            bound.debug("route.cycle.traceback", exc_info=exc)  # --debug / log_level = "debug"
        # A cycle that failed part-way but got work done shows a flaky system, not a dead one.
        failure = None if _made_progress(report) else exc
    if failure is not None and not dry_run:
        _note_failure(route, failure)
    elif any(h.failures for h in health):  # empty in a dry run
        route.memory.note_connector_success(_heard_from(route, report))
    if clock_note := newest.notice():
        report.notes.append(clock_note)
    if run_id is not None:
        route.memory.finish_cycle(
            run_id, ok=report.ok, counts=dict(report.counts), error=report.error
        )
        _note_notices(route, [clock_note] if clock_note else [])
    bound.info("route.cycle.finished", ok=report.ok, **dict(report.counts))
    return report


INTERRUPTED = "interrupted"


def _finish_interrupted(route: Route, run_id: int, report: CycleReport) -> None:
    try:
        counts = dict(report.counts)
        route.memory.finish_cycle(run_id, ok=False, counts=counts, error=INTERRUPTED)
    except BridgeError as exc:  # the ledger is down: the interrupt still goes through
        log.warning("route.cycle.unfinished", route=route.name, error=type(exc).__name__)


# What a cycle may write; any of them means the systems it talks to are working.
WRITES = frozenset({"create", "link", "adopt", "followup", "status", "forward"})


def _made_progress(report: CycleReport) -> bool:
    return any(report.counts.get(kind) for kind in WRITES)


def _heard_from(route: Route, report: CycleReport) -> list[str]:
    """The systems a cycle that did not fail proved to work: the source, which listed, and
    the target only when something was written to it. A quiet cycle never reached the
    target, so it must not clear a failure another route holds against it (say the door
    whose listing keeps failing, when the other route only lists LAPOR!)."""
    if _made_progress(report):
        return [route.source.name, route.target.name]
    return [route.source.name]


def _note_notices(route: Route, source_notes: list[str]) -> None:
    """Keep what the route's connectors say about their set-up now (and what the cycle saw
    of its source's clock), for ``bridge status``."""
    try:
        route.memory.note_notices(route.source.name, route.source.notices() + source_notes)
        route.memory.note_notices(route.target.name, route.target.notices())
    except BridgeError as exc:  # the cycle is recorded; the next one says it again
        log.warning("route.notices.unsaved", route=route.name, error=type(exc).__name__)


def _note_failure(route: Route, error: BaseException) -> None:
    """Count the failure against the connector that raised it; it may be paused now."""
    connector = failing_connector(error, (route.source, route.target))
    if connector is None:
        return  # the engine's or the ledger's own failure: no system to hold back
    health = route.memory.note_connector_failure(connector.name, error, route.pause_policy)
    if health.paused_until is not None:
        log.warning(
            "connector.paused",
            route=route.name,
            connector=connector.name,
            failures=health.failures,
            until=health.paused_until,
        )


def _run_pages(
    route: Route, report: CycleReport, options: CycleOptions, newest: NewestSeen
) -> None:
    options = adoption.prepare(route, options)
    since = options.since if options.since is not None else _pull_since(route, options)
    quarantined_ids = route.memory.quarantined_ids()
    quarantined = route.memory.quarantine_held()
    handled: set[str] = set()
    retried: set[str] = set()
    if not options.dry_run and options.since is None:
        # A record fetched again may have waited (in quarantine, or for a person deciding a
        # duplicate) since a first pass in a lost or restored ledger: its copy may be in the
        # target from before, so the target is searched first, as on that first pass.
        again = dataclasses.replace(options, search_first=True)
        for page in retries(route, report):
            _run_page(route, page, report, again, quarantined_ids, handled, {}, moves=False)
            retried.update(native_id(route, n) or "" for n in page)
    listed = 0
    # The next page is read while this one is acted on (a source made for threads only).
    threads = route.source.max_concurrency > 1
    pages = read_ahead(route.source.pull(since), threads=threads, name=route.name)
    with closing(pages):
        for page in pages:
            listed += len(page)
            # A rebuild leaves the unlinked records unknown: the cursor must not pass them.
            moves = options.since is None and not options.link_only
            if retried:  # fetched and handled just now; once per cycle is enough
                ids = [native_id(route, n) for n in page]
                newest.page([n for n, i in zip(page, ids, strict=True) if i in retried])
                page = [n for n, i in zip(page, ids, strict=True) if i not in retried]
            _run_page(
                route, page, report, options, quarantined_ids, handled, quarantined, moves, newest
            )
            if options.enough is not None and options.enough():
                break
    if not options.dry_run and options.linked_sync:
        repoll(route, report, already=handled, now=route.clock())
    if listed == 0 and since is None and route.memory.count_source_links() > 0:
        # A scan that suddenly finds nothing is a broken source, not an empty one.
        raise SourceEmpty(
            f"source {route.source.name!r} listed no records although the ledger links "
            f"some; check its base_url and credentials"
        )
    adoption.finish(route, options, report)


def _run_page(
    route: Route,
    page: Sequence[NativeRecord],
    report: CycleReport,
    options: CycleOptions,
    quarantined_ids: set[str],
    handled: set[str],
    quarantined: Mapping[str, str],
    moves: bool,
    newest: NewestSeen | None = None,
) -> None:
    """Observe, plan and act on one page; a dry run reports the plan instead of acting.

    ``newest`` (a listed page's) notes the update times observe read.
    """
    facts = observe(route, page, options, quarantined)
    if newest is not None:
        newest.observed(facts.listed)
    actions = plan(facts)
    adoption.claim_links(options.adopt, (a.found for a in actions if isinstance(a, Link)))
    if options.dry_run:
        for action in actions:
            settled = settle(route, action, options.adopt) if isinstance(action, Create) else action
            report.add(line_for(settled))
    else:
        # Linked complaints whose content changed: read before the page commits the new view.
        items = changed(route, actions) if options.linked_sync else []
        # Records still quarantined do not move the cursor: they come back when they change.
        tried = [o for o in facts.observations if o.source_id not in facts.quarantined_unchanged]
        cursor = _page_cursor(route, tried) if moves else None
        owed = [item.source_id for item in items]
        act(route, actions, Page(cursor, owed, quarantined_ids), report, options)
        # The page committed these changes as owed (due for a re-poll): if this process
        # dies now, the next cycle carries them. Carried, they go back to their schedule.
        failed = sync_linked(route, items, report, now=route.clock())
        if items:
            synced = [(item.ref, item.source_id) for item in items]
            reschedule(route, synced, failed, now=route.clock())
        handled.update(item.ref for item in items)
    if options.on_page is not None:
        options.on_page(report)


def _pull_since(route: Route, options: CycleOptions) -> datetime | None:
    if route.source.change_feed != "cursor" or options.adopting:
        return None  # a first pass in this ledger reads everything, whatever the cursor says
    value = route.memory.cursor()
    if value is None:
        return None
    # Look back so rows committed late, or sharing the cursor's timestamp, are seen
    # again; processing is idempotent, so seeing a row twice costs a hash compare.
    return datetime.fromisoformat(value) - route.lookback


# How far ahead of ours a source's clock may run before its stamps stop moving the cursor.
CLOCK_SKEW = timedelta(minutes=5)


def _page_cursor(route: Route, observations: Sequence[Observation]) -> str | None:
    if route.source.change_feed != "cursor":
        return None
    stamps = [s for s in (updated_at(route, o) for o in observations) if s is not None]
    if not stamps:
        return None
    # A record stamped in the future (a wrong clock, a time zone misread) must not carry
    # the cursor past every real change to come: it stops at our now, plus some skew.
    newest = min(max(stamps), route.clock() + CLOCK_SKEW)
    current = route.memory.cursor()
    # A cursor never moves backwards, even when a system's clock does.
    if current is not None and datetime.fromisoformat(current) >= newest:
        return None
    return newest.isoformat()
