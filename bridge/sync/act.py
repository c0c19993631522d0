"""Act: carry out a page's planned actions, then commit the page.

The order of writes is what makes "nothing lost, nothing doubled" hold:

1. quarantined records are stored with their reason (``bridge.sync.quarantine``);
2. the *intent* of every create and link is committed to the ledger before any remote
   write (``Sends``);
3. each create carries the bridge's reference into the remote record, so a create
   whose answer was lost (or whose process died) is found again by reference instead
   of being sent twice; a failure of one record never stops the page: the record is
   *owed* to the next cycle, and quarantined after ``max_create_attempts``;
4. links, hashes and the source cursor are committed together, after the remote writes,
   one page at a time: a run that keeps failing part-way still progresses, and a cursor
   never passes a record the ledger does not hold.

Creates run up to the target's ``max_concurrency`` at once (``bridge.sync.sending``):
only their remote calls leave the engine's thread, and the page commits after every
create it started has come back, so the order above holds for each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from bridge.ledger import CreateIntent, CreateResult, SeenUpdate
from bridge.model import Complaint
from bridge.privacy.processing import personal_fields
from bridge.sync.codes import flag_fallbacks
from bridge.sync.duplicate_acts import hold_duplicate, link_duplicate
from bridge.sync.duplicates import index_sends
from bridge.sync.outcomes import Tally
from bridge.sync.plan import (
    Action,
    AdoptCopy,
    Create,
    HoldDuplicate,
    Link,
    LinkDuplicate,
    NoteChange,
    Quarantine,
    Sends,
    Skip,
)
from bridge.sync.quarantine import quarantine, released
from bridge.sync.report import CycleReport, line_for
from bridge.sync.route import CycleOptions, Route
from bridge.sync.sending import ahead, send_all, settle

__all__ = ["Page", "act", "intent", "settle"]

# Logged as the engine's: these are steps of its cycle.
log = structlog.get_logger("bridge.engine")


@dataclass(frozen=True)
class Page:
    """How a page's commit treats the cursor and the complaints it owes a re-poll."""

    cursor: str | None
    """Where the source's cursor moves once the whole page went through (None: it stays)."""
    owed: Sequence[str]
    """Source ids whose content changed: due a re-poll until ``bridge.sync.updates`` ran."""
    quarantined: set[str]
    """Source ids quarantined before this page; those that went through are released."""


def act(
    route: Route, actions: Sequence[Action], page: Page, report: CycleReport, options: CycleOptions
) -> None:
    """Carry out ``actions`` (one page's plan) and commit the page. See the module docstring."""
    results: list[CreateResult] = []
    sends: list[Sends] = []
    for action in actions:
        match action:
            case Quarantine(observation=o, reason=reason, field=field_name):
                quarantine(route, o, reason, field_name, report)
            case Create() | Link():
                sends.append(action)
            case AdoptCopy():
                results.append(_adopt_copy(route, action, report))
            case LinkDuplicate():
                results.append(link_duplicate(route, action, report))
            case HoldDuplicate():
                hold_duplicate(route, action, report)
            case NoteChange():
                pass  # reported once the page is committed
            case _:
                report.add(line_for(action))
    noted = ahead(route, sends)
    if sends:
        # The intents, and the page's first attempts noted as sending: one commit.
        route.memory.record_intents([intent(route, a) for a in sends], sending=noted.refs)
        index_sends(route, [a for a in sends if isinstance(a, Create)])
    # A record still owed (a create not confirmed, a look-up not yet due) holds the cursor.
    owes = any(isinstance(a, Skip) and a.owed for a in actions)
    tally = Tally(results)
    finished = False
    try:
        send_all(route, sends, report, options, tally, noted)
        finished = True
    finally:
        # Whatever was delivered is committed even when the page stops part-way; the
        # cursor moves only when the whole page went through.
        cursor = page.cursor if finished and not (owes or tally.owes) else None
        route.memory.complete_page(
            results,
            cursor=cursor,
            seen=_seen_updates(actions),
            released=released(actions, results, page.quarantined) if finished else [],
            owed=page.owed,
        )
        # Delivered, but a code is missing: flagged also when the page stopped part-way,
        # or the flag would be lost (the next cycle finds these linked, sends them no more).
        flag_fallbacks(route, sends, results, report)
    for action in actions:
        if isinstance(action, NoteChange):
            report.add(line_for(action))


def intent(route: Route, action: Sends) -> CreateIntent:
    observation = action.observation
    complaint = observation.complaint
    assert complaint is not None
    return CreateIntent(
        ref=action.ref,
        origin_system=route.source.name,
        origin_id=observation.source_id,
        source_hash=observation.seen_hash or "",
        target_system=route.target.name,
        raw_status_code=complaint.raw_status.code,
        raw_status_label=complaint.raw_status.label,
        status=complaint.status.value if complaint.status else None,
        # A link sends nothing: no personal field leaves with it.
        personal=_personal(action.outgoing.complaint) if isinstance(action, Create) else (),
        anonymous=complaint.is_anonymous,
        secret=complaint.is_secret,
        ticket=complaint.ticket,
    )


def _personal(leaving: Complaint) -> tuple[str, ...]:
    """The personal fields the copy carries, by name, for the record of processing."""
    who, where = leaving.reporter, leaving.location
    return personal_fields(
        name=who.name,
        nik=who.nik,
        phone=who.phone,
        email=who.email,
        address=where.address,
        coordinates=where.lat is not None or where.lng is not None,
        attachments=len(leaving.attachments),
    )


def _adopt_copy(route: Route, action: AdoptCopy, report: CycleReport) -> CreateResult:
    source_id = action.observation.source_id
    report.add(line_for(action))
    log.info("complaint.copy_adopted", route=route.name, ref=action.ref, source_id=source_id)
    seen = action.observation.seen_hash or ""
    return CreateResult(action.ref, route.source.name, source_id, seen, adopted=True)


def _seen_updates(actions: Sequence[Action]) -> list[SeenUpdate]:
    updates = []
    for action in actions:
        if isinstance(action, NoteChange) and action.observation.complaint is not None:
            complaint = action.observation.complaint
            raw, seen = complaint.raw_status, action.observation.seen_hash or ""
            ticket = complaint.ticket
            updates.append(
                SeenUpdate(action.observation.source_id, seen, raw.code, raw.label, None, ticket)
            )
    return updates
