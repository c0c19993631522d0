"""Linked complaints: carry status changes and new follow-ups from a route's source to its target.

A complaint is *linked* once it exists on both sides of a route. From then on each
cycle of the route (source → target) looks, for the complaints that changed or are
due for a re-poll, at

- **status** (``bridge.sync.statuses``): recorded when it moves the complaint on, and
  written to the target when the target can take it;
- **follow-ups** (``bridge.sync.followups``): copied once each, never echoed back.

Linked complaints that did not change are looked at again on a schedule by their age
(``bridge.sync.repoll``), within the route's re-poll budget.

Once both sides agree, a cycle makes no writes at all.

Complaints are carried up to the target's ``max_concurrency`` at once, each one's reads
and writes in their order, every ledger call on the engine's thread
(``bridge.sync.linked_sending``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from bridge.errors import RecordError
from bridge.lifecycle import is_final
from bridge.model import Complaint, Status
from bridge.sync.anonymity_gate import flag_identity_sent
from bridge.sync.followups import sync_followups
from bridge.sync.linked_sending import send_linked
from bridge.sync.plan import Action, NoteChange
from bridge.sync.privacy_gate import withheld_confidential
from bridge.sync.repoll import next_poll
from bridge.sync.report import CycleReport
from bridge.sync.route import Route
from bridge.sync.statuses import sync_status

log = structlog.get_logger("bridge.linked")


@dataclass(frozen=True)
class LinkedItem:
    """One linked complaint to look at: its ids on both sides, and the source's view if at hand."""

    ref: str
    source_id: str
    target_id: str
    complaint: Complaint | None = None
    changed: bool = False
    """True when the source's content changed this cycle (not merely due for a re-poll)."""
    previous: Status | None = None
    """The status the source showed the last time the ledger saw it."""


def changed(route: Route, actions: Sequence[Action]) -> list[LinkedItem]:
    """Linked complaints whose source content changed, with the status the source showed before.

    Called before the page is committed, while the ledger still holds the old view.
    """
    changes = [a for a in actions if isinstance(a, NoteChange)]
    if not changes:
        return []
    before = route.memory.links_for_source([a.observation.source_id for a in changes])
    items = []
    for action in changes:
        target = route.memory.target_link(action.ref)
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


def sync_linked(
    route: Route, items: Sequence[LinkedItem], report: CycleReport, *, now: datetime
) -> set[str]:
    """Carry status and follow-ups of ``items`` from the route's source to its target.

    Returns the refs whose writes failed; they are scheduled for a retry soon, final
    or not, so a failure can never leave a follow-up or a status behind for good.
    """
    failed: set[str] = set()
    if not items:
        return failed
    states = route.memory.complaint_states([item.ref for item in items])

    def one(route: Route, item: LinkedItem, report: CycleReport) -> None:
        _sync_one(route, item, states.get(item.ref), report)

    try:
        # Up to the target's max_concurrency complaints at once, each in its own order.
        send_linked(route, items, one, report, failed=failed, refused=_flag_write)
    finally:
        retry = [(i.source_id, now + route.linked_retry) for i in items if i.ref in failed]
        if retry:
            route.memory.schedule_polls(retry)
    return failed


def _sync_one(route: Route, item: LinkedItem, state: Any, report: CycleReport) -> None:
    complaint = item.complaint or _fetch(route, item)
    if complaint is None:
        return
    if withheld_confidential(route, item, complaint, report):
        return
    flag_identity_sent(route, item, complaint, report)
    sync_status(
        route,
        item,
        complaint,
        state.status if state else None,
        state.status_at if state else None,
        report,
    )
    # A target that reads follow-ups but takes none (read_only_note) gets none.
    followups = route.source.supports_followups and route.target.supports_followups
    if followups and route.target.can_add_followups:
        sync_followups(route, item, complaint, report)


def read_only_note(route: Route) -> str | None:
    """Why this route copies no follow-ups although both sides have them, or None."""
    source, target = route.source, route.target
    if not (source.supports_followups and target.supports_followups):
        return None
    if target.can_add_followups:
        return None
    return (
        f"{target.name} is read-only: follow-ups from {source.name} are not copied to it. "
        f"To copy them, let the bridge write there (for a sql door: `writable = true` in the "
        f"mapping's [transport.responses], and the INSERT grant)"
    )


def _flag_write(route: Route, item: LinkedItem, exc: RecordError, report: CycleReport) -> None:
    route.memory.flag_for_review(
        item.ref, route.target.name, "write", exc.reason, {"field": exc.field}
    )
    report.counts["review"] += 1
    log.warning("complaint.write.refused", route=route.name, ref=item.ref, reason=exc.reason)


def repoll(route: Route, report: CycleReport, *, already: set[str], now: datetime) -> None:
    """Re-check linked complaints that are due, within the route's re-poll budget."""
    if route.repoll_budget <= 0:
        return
    due = route.memory.due_for_poll(now=now, limit=route.repoll_budget)
    items = []
    for link in due:
        if link.ref in already:
            continue
        target = route.memory.target_link(link.ref)
        if target is not None:
            items.append(LinkedItem(link.ref, link.remote_id, target.remote_id))
    if items:
        report.counts["repoll"] += len(items)
    failed = sync_linked(route, items, report, now=now)
    reschedule(route, [(link.ref, link.remote_id) for link in due], failed, now=now)


def reschedule(
    route: Route, synced: Sequence[tuple[str, str]], failed: set[str], *, now: datetime
) -> None:
    """Next re-poll of (ref, source id) just synced: by age, never for a final status.

    Those whose writes failed keep the retry ``sync_linked`` scheduled.
    """
    states = route.memory.complaint_states([ref for ref, _ in synced])
    schedule = []
    for ref, source_id in synced:
        if ref in failed:
            continue
        state = states.get(ref)
        status = Status(state.status) if state and state.status else None
        created = state.created_at if state else now
        schedule.append((source_id, None if is_final(status) else next_poll(created, now)))
    route.memory.schedule_polls(schedule)


def _fetch(route: Route, item: LinkedItem) -> Complaint | None:
    native = route.source.get(item.source_id)
    if native is None:
        route.memory.flag_for_review(
            item.ref,
            route.source.name,
            "missing",
            f"linked record {item.source_id} is gone from {route.source.name}",
            {"source_id": item.source_id},
        )
        return None
    try:
        return route.source_mapping.to_canonical(native)
    except RecordError as exc:
        route.memory.flag_for_review(
            item.ref, route.source.name, "unreadable", exc.reason, {"field": exc.field}
        )
        return None
