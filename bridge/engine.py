"""One route, one cycle: pull → map → plan → act → commit, page by page.

The order of writes is what makes "nothing lost, nothing doubled" hold:

1. records that cannot be read are set aside in the ledger, with their reason
   (``bridge.setaside``);
2. the *intent* to create is committed to the ledger before any remote create;
3. each create carries the bridge's reference into the remote record, so a create
   whose response was lost (or whose process died) is found again by ``find_by_ref``
   instead of being sent twice;
4. links, hashes and the source cursor are committed together, after the remote
   writes, one page at a time: a run that keeps failing part-way still progresses,
   and a cursor never passes a record the ledger does not hold.

A dry run takes the very same path up to the plan and writes nothing anywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from bridge import adoption, storable
from bridge.connector import NativeRecord
from bridge.create import (
    UNCONFIRMED,
    Owed,
    copy_in_target,
    deliver,
    found_copies,
    intent,
    natural_key_text,
    outgoing,
    prepare_all,
)
from bridge.cycle import CycleOptions, CycleReport, ForwardRule, PlannedLine, Route
from bridge.errors import BridgeError, RecordError, RetryableError, RouteError, SourceEmpty
from bridge.health import failing_connector
from bridge.ledger import CreateResult, SeenUpdate
from bridge.linked import LinkedItem, read_only_note, repoll, reschedule, sync_linked
from bridge.log import failure_reason
from bridge.model import (
    carried_ref,
    change_hash,
    made_by,
    make_ref,
)
from bridge.plan import (
    Action,
    AdoptCopy,
    Create,
    KnownRecord,
    NoteChange,
    Observation,
    PlanInput,
    Resume,
    SetAside,
    Skip,
    Withhold,
    plan,
)
from bridge.setaside import dump, healed, native_id, requested_again, set_aside, unparked

# The cycle's data types live in bridge.cycle; they are re-exported here, where callers
# have always found them.
__all__ = [
    "CycleOptions",
    "CycleReport",
    "ForwardRule",
    "PlannedLine",
    "Route",
    "natural_key_text",
    "run_cycle",
]

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
    connectors = (route.source, route.target)
    health = [] if dry_run else route.ledger.health.listed([c.name for c in connectors])
    if options.respect_pause and (paused := [h for h in health if h.paused_at(route.clock())]):
        first = paused[0]
        assert first.paused_until is not None
        report.paused = (
            f"{first.connector} is paused until {first.paused_until.isoformat(timespec='seconds')} "
            f"after {first.failures} failed cycles in a row; last error: {first.last_error}"
        )
        bound.warning("route.cycle.paused", connector=first.connector, until=first.paused_until)
        return report
    run_id = None if dry_run else route.ledger.cycles.start(route.name)
    bound.info("route.cycle.started")
    failure: BaseException | None = None  # a failure that got nothing done: held against a system
    try:
        _run_pages(route, report, options)
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
        route.ledger.health.note_success(_heard_from(route, report))
    if run_id is not None:
        route.ledger.cycles.finish(
            run_id, ok=report.ok, counts=dict(report.counts), error=report.error
        )
    bound.info("route.cycle.finished", ok=report.ok, **dict(report.counts))
    return report


INTERRUPTED = "interrupted"


def _finish_interrupted(route: Route, run_id: int, report: CycleReport) -> None:
    try:
        counts = dict(report.counts)
        route.ledger.cycles.finish(run_id, ok=False, counts=counts, error=INTERRUPTED)
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


def _note_failure(route: Route, error: BaseException) -> None:
    """Count the failure against the connector that raised it; it may be paused now."""
    connector = failing_connector(error, (route.source, route.target))
    if connector is None:
        return  # the engine's or the ledger's own failure: no system to hold back
    health = route.ledger.health.note_failure(connector.name, error, route.pause_policy)
    if health.paused_until is not None:
        log.warning(
            "connector.paused",
            route=route.name,
            connector=connector.name,
            failures=health.failures,
            until=health.paused_until,
        )


def _run_pages(route: Route, report: CycleReport, options: CycleOptions) -> None:
    options = adoption.prepare(route, options)
    since = options.since if options.since is not None else _pull_since(route, options)
    quarantined = route.ledger.quarantine.ids(route.name, route.source.name)
    parked = route.ledger.quarantine.held(route.name, route.source.name)
    handled: set[str] = set()
    retried: set[str] = set()
    if not options.dry_run and options.since is None:
        for page in requested_again(route, report):
            _run_page(route, page, report, options, quarantined, handled, moves_cursor=False)
            retried.update(native_id(route, n) or "" for n in page)
    listed = 0
    for page in route.source.pull(since):
        listed += len(page)
        # A rebuild leaves the unlinked records unknown: the cursor must not pass them.
        moves = options.since is None and not options.link_only
        if retried:  # fetched and handled just now; once per cycle is enough
            page = [n for n in page if native_id(route, n) not in retried]
        _run_page(
            route, page, report, options, quarantined, handled, moves_cursor=moves, parked=parked
        )
    if not options.dry_run and options.linked_sync:
        repoll(route, report, already=handled, now=route.clock())
    if listed == 0 and since is None and route.ledger.links.count(route.source.name) > 0:
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
    quarantined: set[str],
    handled: set[str],
    *,
    moves_cursor: bool,
    parked: Mapping[str, str] | None = None,
) -> None:
    observations = [_observe(route, native) for native in page]
    if options.select is not None:
        observations = [o for o in observations if options.select(o)]
    if parked:
        observations = unparked(observations, parked, report)
    observations, actions = _plan_page(route, observations, options)
    if options.dry_run:
        _report_dry_run(route, actions, report, options)
    else:
        changed = _changed_items(route, actions) if options.linked_sync else []
        owed = [item.source_id for item in changed]
        _act(route, actions, observations, quarantined, report, options, owed, moves_cursor)
        # The page committed these changes as owed (due for a re-poll): if this process
        # dies now, the next cycle carries them. Carried, they go back to their schedule.
        failed = sync_linked(route, changed, report, now=route.clock())
        if changed:
            synced = [(item.ref, item.source_id) for item in changed]
            reschedule(route, synced, failed, now=route.clock())
        handled.update(item.ref for item in changed)
    if options.on_page is not None:
        options.on_page(report)


def _changed_items(route: Route, actions: Sequence[Action]) -> list[LinkedItem]:
    """Linked complaints whose source content changed, with the status the source showed before.

    Called before the page is committed, while the ledger still holds the old view.
    """
    changed = [a for a in actions if isinstance(a, NoteChange)]
    if not changed:
        return []
    before = route.ledger.links.by_remote(
        route.source.name, [a.observation.source_id for a in changed]
    )
    items = []
    for action in changed:
        target = route.ledger.links.of(action.ref, route.target.name)
        if target is None:
            continue
        source_id = action.observation.source_id
        old = before.get(source_id)
        previous = (
            route.source_mapping.to_canonical_status(old.raw_status_code, old.raw_status_label)
            if old
            else None
        )
        complaint = action.observation.complaint
        items.append(LinkedItem(action.ref, source_id, target.remote_id, complaint, True, previous))
    return items


def _pull_since(route: Route, options: CycleOptions) -> datetime | None:
    if route.source.change_feed != "cursor" or options.adopting:
        return None  # a first pass in this ledger reads everything, whatever the cursor says
    value = route.ledger.cycles.cursor(route.name, route.source.name)
    if value is None:
        return None
    # Look back so rows committed late, or sharing the cursor's timestamp, are seen
    # again; processing is idempotent, so seeing a row twice costs a hash compare.
    return datetime.fromisoformat(value) - route.lookback


# Records remembered per route as (id, seen hash) only — about 200 bytes each;
# cleared (not grown) beyond the limit, so a huge source just gets fewer hits.
MEMO_LIMIT = 100_000


def _observe(route: Route, native: NativeRecord) -> Observation:
    """Map a native record, unless it is byte-for-byte one this route mapped before."""
    digest = hashlib.blake2b(dump(native).encode(), digest_size=16).hexdigest()
    remembered = route.memo.get(digest)
    if remembered is not None:
        source_id, seen_hash = remembered
        return Observation(source_id, native, seen_hash=seen_hash, mapped=False)
    observation = _map(route, native)
    if observation.complaint is not None:
        if len(route.memo) >= MEMO_LIMIT:
            route.memo.clear()
        route.memo[digest] = (observation.source_id, observation.seen_hash or "")
    return observation


def _plan_page(
    route: Route, observations: list[Observation], options: CycleOptions
) -> tuple[list[Observation], list[Action]]:
    """Plan a page; records recognised without mapping are mapped if they need more than a skip."""
    actions = plan(_plan_input(route, observations, options))
    stale = [
        i
        for i, (o, a) in enumerate(zip(observations, actions, strict=True))
        if not o.mapped and not isinstance(a, Skip)
    ]
    if not stale:
        return observations, actions
    for i in stale:
        observations[i] = _map(route, dict(observations[i].native))
    return observations, plan(_plan_input(route, observations, options))


def _map(route: Route, native: NativeRecord) -> Observation:
    mapping = route.source_mapping
    try:
        source_id = storable.checked_id(mapping.native_id(native))
    except RecordError as exc:
        # Without an id (or one the ledger cannot hold) we still need a stable handle.
        digest = hashlib.sha256(dump(native).encode()).hexdigest()[:16]
        return Observation(f"noid-{digest}", native, problem=exc.reason, problem_field=exc.field)
    try:
        complaint = mapping.to_canonical(native)
        storable.check_complaint(complaint)
    except RecordError as exc:
        return Observation(source_id, native, problem=exc.reason, problem_field=exc.field)
    return Observation(source_id, native, complaint, change_hash(complaint))


def _plan_input(
    route: Route, observations: Sequence[Observation], options: CycleOptions
) -> PlanInput:
    ids = [o.source_id for o in observations]
    links = route.ledger.links.by_remote(route.source.name, ids)
    known = {sid: KnownRecord(link.ref, link.last_seen_hash) for sid, link in links.items()}

    def ref_of(source_id: str) -> str:
        return make_ref(route.source.name, source_id, route.installation)

    refs = [known[s].ref if s in known else ref_of(s) for s in ids]
    pending = route.ledger.creates.pending(route.name, route.target.name, refs)
    settled_before = route.clock() - route.settle
    return PlanInput(
        observations=observations,
        known=known,
        pending_refs=set(pending),
        settling={ref for ref, p in pending.items() if p.updated_at > settled_before},
        target_receives_confidential=route.target.receives_confidential,
        target_can_create=route.target.can_create,
        adoptable=_adoptable(route, observations, known),
        make_ref=ref_of,
        adopting=options.adopting and route.target.can_find_by_ref,
        reverse_adopting=options.reverse_adopting,
        own_ref=lambda ref: made_by(ref, route.installation),
    )


def _adoptable(
    route: Route, observations: Sequence[Observation], known: Mapping[str, KnownRecord]
) -> dict[str, str]:
    """Unlinked records carrying the reference of a complaint the ledger knows.

    Such a record is the bridge's own copy whose create answer was lost (the other
    direction's create); the ledger only waits to hear its id here.
    """
    carried = {
        o.source_id: ref
        for o in observations
        if o.complaint is not None
        and o.source_id not in known
        and (ref := carried_ref(o.complaint)) is not None
    }
    if not carried:
        return {}
    states = route.ledger.statuses.of(sorted(set(carried.values())))
    return {
        source_id: ref
        for source_id, ref in carried.items()
        if ref in states and route.ledger.links.of(ref, route.source.name) is None
    }


def _report_dry_run(
    route: Route, actions: Sequence[Action], report: CycleReport, options: CycleOptions
) -> None:
    for action in actions:
        if isinstance(action, Resume) and not route.target.can_find_by_ref:
            reason = UNCONFIRMED.format(target=route.target.name)
            report.add(PlannedLine("set_aside", action.observation.source_id, reason=reason))
        elif isinstance(action, Create | Resume) and (
            found := copy_in_target(route, action, options)
        ):
            # Reading the target is allowed in a dry run; it makes the report exact.
            report.add(PlannedLine("link", action.observation.source_id, action.ref, found))
        elif isinstance(action, Create | Resume) and (problem := _unwritable(route, action)):
            # The real run would set it aside at this step: say so now, not after.
            report.add(PlannedLine("set_aside", action.observation.source_id, reason=problem))
        elif isinstance(action, Resume):  # not found in the target: the real run sends it
            report.add(PlannedLine("create", action.observation.source_id, action.ref))
        else:
            report.add(_line_for(action))


def _unwritable(route: Route, action: Create | Resume) -> str | None:
    """Why the target's mapping cannot write this complaint, or None when it can."""
    complaint = action.observation.complaint
    assert complaint is not None  # the planner only creates mapped records
    try:
        route.target_mapping.to_native(outgoing(complaint, action.ref))
    except RecordError as exc:
        return exc.reason
    return None


def _line_for(action: Action) -> PlannedLine:
    if isinstance(action, Create):
        return PlannedLine("create", action.observation.source_id, action.ref)
    if isinstance(action, Resume):
        return PlannedLine("resume", action.observation.source_id, action.ref)
    if isinstance(action, AdoptCopy):
        return PlannedLine("adopt", action.observation.source_id, action.ref)
    if isinstance(action, NoteChange):
        return PlannedLine("change", action.observation.source_id, action.ref)
    if isinstance(action, SetAside):
        return PlannedLine("set_aside", action.observation.source_id, reason=action.reason)
    if isinstance(action, Withhold):
        return PlannedLine("withhold", action.source_id, reason=action.reason)
    return PlannedLine(action.kind, action.source_id, reason=action.reason)


def _act(
    route: Route,
    actions: Sequence[Action],
    observations: Sequence[Observation],
    quarantined: set[str],
    report: CycleReport,
    options: CycleOptions,
    owed: Sequence[str],
    moves_cursor: bool,
) -> None:
    ledger = route.ledger
    for action in actions:
        if isinstance(action, SetAside):
            set_aside(route, action.observation, action.reason, action.field, report)
        elif isinstance(action, Skip | Withhold):
            report.add(_line_for(action))
    prepared = list(prepare_all(route, actions, report))
    if options.link_only:
        # A rebuild: only copies the target holds become links; the rest stay unknown,
        # with no intent recorded, for the next ordinary cycle to look up and send.
        prepared = list(found_copies(route, prepared, report, options))
    if prepared:
        ledger.creates.record_intents(route.name, [intent(route, p) for p in prepared])
    results = [_adopted_copy(route, a, report) for a in actions if isinstance(a, AdoptCopy)]
    # A record still owed (a create not confirmed, a look-up not yet due) holds the cursor.
    owes = any(isinstance(a, Skip) and a.owed for a in actions)
    finished = False
    try:
        owed_in_a_row = 0
        for item in prepared:
            result = deliver(route, item, report, options)
            if isinstance(result, Owed):
                owes = True
                owed_in_a_row += 1
                if owed_in_a_row >= FAILING_SYSTEM:
                    # Not one record's trouble: the target is failing. Stop, keep what was done.
                    raise result.error
                continue
            owed_in_a_row = 0
            if result is not None:
                results.append(result)
        finished = True
    finally:
        # Whatever was delivered is committed even when the page stops part-way;
        # the cursor moves only when the whole page went through, and never for a
        # pull that did not start from it (a backfill's own window, a retry).
        moves = finished and moves_cursor and not owes
        cursor = _page_cursor(route, observations) if moves else None
        ledger.cycles.complete_page(
            route.name,
            results,
            cursor=(route.name, route.source.name, cursor) if cursor else None,
            seen={route.source.name: _seen_updates(actions)},
            released=healed(route, actions, results, quarantined) if finished else [],
            owed=(route.source.name, owed) if owed else None,
        )
    for action in actions:
        if isinstance(action, NoteChange):
            report.add(_line_for(action))


# Creates in a row left unconfirmed after which the target, not a record, is taken to be failing.
FAILING_SYSTEM = 10


def _adopted_copy(route: Route, action: AdoptCopy, report: CycleReport) -> CreateResult:
    source_id = action.observation.source_id
    report.add(_line_for(action))
    log.info("complaint.copy_adopted", route=route.name, ref=action.ref, source_id=source_id)
    seen = action.observation.seen_hash or ""
    return CreateResult(action.ref, route.source.name, source_id, seen, adopted=True)


def _seen_updates(actions: Sequence[Action]) -> list[SeenUpdate]:
    updates = []
    for action in actions:
        if isinstance(action, NoteChange) and action.observation.complaint is not None:
            raw = action.observation.complaint.raw_status
            updates.append(
                SeenUpdate(
                    action.observation.source_id,
                    action.observation.seen_hash or "",
                    raw.code,
                    raw.label,
                )
            )
    return updates


# How far ahead of ours a source's clock may run before its stamps stop moving the cursor.
CLOCK_SKEW = timedelta(minutes=5)


def _page_cursor(route: Route, observations: Sequence[Observation]) -> str | None:
    if route.source.change_feed != "cursor":
        return None
    stamps = [s for s in (_updated_at(route, o.native) for o in observations) if s is not None]
    if not stamps:
        return None
    # A record stamped in the future (a wrong clock, a time zone misread) must not carry
    # the cursor past every real change to come: it stops at our now, plus some skew.
    newest = min(max(stamps), route.clock() + CLOCK_SKEW)
    current = route.ledger.cycles.cursor(route.name, route.source.name)
    # A cursor never moves backwards, even when a system's clock does.
    if current is not None and datetime.fromisoformat(current) >= newest:
        return None
    return newest.isoformat()


def _updated_at(route: Route, native: Mapping[str, Any]) -> datetime | None:
    try:
        return route.source_mapping.native_updated_at(dict(native))
    except RecordError:
        return None
