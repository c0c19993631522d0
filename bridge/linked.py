"""Linked complaints: carry status changes and new follow-ups from a route's source to its target.

A complaint is *linked* once it exists on both sides of a route. From then on each
cycle of the route (source → target) looks, for the complaints that changed or are
due for a re-poll, at

- **status**: ``bridge.status.decide`` says whether the source's status moves the
  complaint on; if so it is recorded, and written to the target when the target
  can take it (or the complaint is forwarded, *Bukan Wewenang*, when the route says so);
- **follow-ups**: each is identified by a fingerprint of its content, so a follow-up
  the bridge itself copied is recognised when it comes back (no echo), and a system
  repeating the same follow-up is not copied twice. The intent to copy is committed
  before the remote write; an unconfirmed copy is looked for on the target first.

Once both sides agree, a cycle makes no writes at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from bridge.errors import RecordError, RetryableError
from bridge.mapping import Mapping as FieldMapping
from bridge.mapping import followup_fingerprint
from bridge.model import Complaint, FollowUp, Status
from bridge.repoll import next_poll
from bridge.status import RANK, Decision, decide, is_final

if TYPE_CHECKING:
    from bridge.cycle import CycleReport, Route

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
    states = route.ledger.statuses.of([item.ref for item in items])
    try:
        for item in items:
            try:
                _sync_one(route, item, states.get(item.ref), report)
            except RecordError as exc:
                _flag_write(route, item, exc, report)
                failed.add(item.ref)
            except RetryableError:
                failed.add(item.ref)
                raise
    finally:
        retry = [(i.source_id, now + route.linked_retry) for i in items if i.ref in failed]
        if retry:
            route.ledger.polls.schedule(route.source.name, retry)
    return failed


def _sync_one(route: Route, item: LinkedItem, state: Any, report: CycleReport) -> None:
    complaint = item.complaint or _fetch(route, item)
    if complaint is None:
        return
    _sync_status(
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
        _sync_followups(route, item, report)


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
    route.ledger.reviews.flag(
        route.name, item.ref, route.target.name, "write", exc.reason, {"field": exc.field}
    )
    report.counts["review"] += 1
    log.warning("complaint.write.refused", route=route.name, ref=item.ref, reason=exc.reason)


def repoll(route: Route, report: CycleReport, *, already: set[str], now: datetime) -> None:
    """Re-check linked complaints that are due, within the route's re-poll budget."""
    if route.repoll_budget <= 0:
        return
    due = route.ledger.polls.due(
        route.source.name, now=now, limit=route.repoll_budget, require_link_in=route.target.name
    )
    items = []
    for link in due:
        if link.ref in already:
            continue
        target = route.ledger.links.of(link.ref, route.target.name)
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
    states = route.ledger.statuses.of([ref for ref, _ in synced])
    schedule = []
    for ref, source_id in synced:
        if ref in failed:
            continue
        state = states.get(ref)
        status = Status(state.status) if state and state.status else None
        created = state.created_at if state else now
        schedule.append((source_id, None if is_final(status) else next_poll(created, now)))
    route.ledger.polls.schedule(route.source.name, schedule)


def _fetch(route: Route, item: LinkedItem) -> Complaint | None:
    native = route.source.get(item.source_id)
    if native is None:
        route.ledger.reviews.flag(
            route.name,
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
        route.ledger.reviews.flag(
            route.name, item.ref, route.source.name, "unreadable", exc.reason, {"field": exc.field}
        )
        return None


# -- status ------------------------------------------------------------------------------


def _sync_status(
    route: Route,
    item: LinkedItem,
    complaint: Complaint,
    current: str | None,
    current_at: datetime | None,
    report: CycleReport,
) -> None:
    forward = route.forward
    if (
        forward is not None
        and complaint.status == forward.on_status
        and current != forward.on_status.value
        and route.target.can_forward
    ):
        # The route's own rule: the door says "not our authority"; that is the door's to say.
        _apply_status(route, item, forward.on_status, complaint, report)
        return
    decision = decide(
        current=Status(current) if current else None,
        current_at=current_at,
        observed=complaint.status,
        observed_at=complaint.updated_at,
        observed_by=route.source.name,
        owners=route.owners,
        previous=item.previous,
    )
    if decision.kind in ("same", "ignore") and current is not None:
        _catch_up(route, item, Status(current), report)
    if decision.kind == "same":
        return
    if decision.kind == "review":
        _flag_status(route, item, complaint, decision, report)
        return
    if decision.kind == "ignore":
        if item.changed:  # a re-poll of a lagging side is normal; only changes are history
            route.ledger.history.record_decision(
                route.name, item.ref, "status.ignored", _detail(route, complaint, decision)
            )
        return
    assert complaint.status is not None
    _apply_status(route, item, complaint.status, complaint, report)


def _apply_status(
    route: Route, item: LinkedItem, status: Status, complaint: Complaint, report: CycleReport
) -> None:
    at = complaint.updated_at or datetime.now(UTC)
    forward = route.forward
    if forward is not None and status == forward.on_status and route.target.can_forward:
        route.ledger.leases.check_fence(route.name)
        route.target.forward(item.target_id, forward.to_institution, forward.reason)
        report.counts["forward"] += 1
        _record(
            route, item, status, at, written=True, note=f"forwarded to {forward.to_institution}"
        )
        return
    if not (route.target.can_write_status and route.target_mapping.can_write_status):
        _record(route, item, status, at, written=False, note="target takes no status writes")
        return
    try:
        fields = route.target_mapping.status_to_native(status)
    except RecordError as exc:
        _record(route, item, status, at, written=False, note=exc.reason)
        return
    route.ledger.leases.check_fence(route.name)  # never write for a route another replica took
    route.target.set_status(item.target_id, fields)
    report.counts["status"] += 1
    log.info("complaint.status.written", route=route.name, ref=item.ref, status=status.value)
    _record(route, item, status, at, written=True, note=None)


def _catch_up(route: Route, item: LinkedItem, status: Status, report: CycleReport) -> None:
    """The target lags behind the ledger's status (e.g. it was just created): bring it level.

    Only forward along the life cycle, only where the target can take the status,
    and only when its last known raw status says it is behind — so it is written once.
    """
    mapping = route.target_mapping
    if not (route.target.can_write_status and mapping.can_write_status):
        return
    link = route.ledger.links.of(item.ref, route.target.name)
    if link is None:
        return
    shown = mapping.to_canonical_status(link.raw_status_code, link.raw_status_label)
    if shown == status or (shown is not None and RANK[shown] >= RANK[status]):
        return
    try:
        fields = mapping.status_to_native(status)
    except RecordError:
        return  # the target has no code for it: nothing to catch up with
    route.ledger.leases.check_fence(route.name)  # never write for a route another replica took
    route.target.set_status(item.target_id, fields)
    report.counts["status"] += 1
    log.info("complaint.status.caught_up", route=route.name, ref=item.ref, status=status.value)
    route.ledger.statuses.record(
        route.name,
        item.ref,
        status=status.value,
        at=datetime.now(UTC),
        system=route.source.name,
        written_to=route.target.name,
        raw_code=mapping.status_code(status),
        note="caught up",
    )


def _record(
    route: Route, item: LinkedItem, status: Status, at: datetime, *, written: bool, note: str | None
) -> None:
    written_to = route.target.name if written else None
    raw_code = None
    if written and route.target_mapping.can_write_status:
        try:
            raw_code = route.target_mapping.status_code(status)
        except RecordError:
            raw_code = None  # forwarded: the target's status is LAPOR!'s to set
    route.ledger.statuses.record(
        route.name,
        item.ref,
        status=status.value,
        at=at,
        system=route.source.name,
        written_to=written_to,
        raw_code=raw_code,
        note=note,
    )


def _flag_status(
    route: Route, item: LinkedItem, complaint: Complaint, decision: Decision, report: CycleReport
) -> None:
    route.ledger.reviews.flag(
        route.name,
        item.ref,
        route.source.name,
        "status",
        decision.reason,
        _detail(route, complaint, decision),
    )
    report.counts["review"] += 1
    log.warning("complaint.status.review", route=route.name, ref=item.ref, reason=decision.reason)


def _detail(route: Route, complaint: Complaint, decision: Decision) -> dict[str, object]:
    return {
        "system": route.source.name,
        "observed": complaint.status.value if complaint.status else None,
        "raw_code": complaint.raw_status.code,
        "raw_label": complaint.raw_status.label,
        "decision": decision.kind,
        "reason": decision.reason,
    }


# -- follow-ups --------------------------------------------------------------------------


def _sync_followups(route: Route, item: LinkedItem, report: CycleReport) -> None:
    source = route.source
    observed = _read_followups(
        route, item, source.followups(item.source_id), route.source_mapping, source.name
    )
    known = _known(route, item.ref)
    recorded = {f.fingerprint for f in known if _done(f.copies.get(source.name))}
    if not recorded.issuperset(observed):
        # Only a follow-up the ledger has not seen here costs a write (an idle re-poll doesn't).
        route.ledger.followups.note(
            item.ref, source.name, [(fp, f.source_id) for fp, f in observed.items()]
        )
        known = _known(route, item.ref)
    target = route.target.name
    copies = {f.fingerprint: f.copies.get(target) for f in known}
    unconfirmed = {fp for fp, copy in copies.items() if copy is not None and copy.state != "done"}
    missing = [fp for fp in observed if copies.get(fp) is None or fp in unconfirmed]
    if missing:
        missing = _confirm_on_target(route, item, missing, unconfirmed)
    todo = [(fp, observed[fp]) for fp in missing if _may_copy(route, observed[fp])]
    if todo:
        _copy_followups(route, item, todo, report)


def _done(copy: Any) -> bool:
    return copy is not None and copy.state == "done"


def _known(route: Route, ref: str) -> list[Any]:
    return list(route.ledger.followups.of([ref]).get(ref, []))


def _read_followups(
    route: Route,
    item: LinkedItem,
    natives: Iterable[dict[str, Any]],
    mapping: FieldMapping,
    system: str,
) -> dict[str, FollowUp]:
    """Fingerprint → follow-up, in the system's order; identical repeats collapse into one."""
    found: dict[str, FollowUp] = {}
    for native in natives:
        try:
            followup = mapping.followup_to_canonical(dict(native))
        except RecordError as exc:
            route.ledger.reviews.flag(
                route.name, item.ref, system, "followup", exc.reason, {"field": exc.field}
            )
            continue
        found.setdefault(followup_fingerprint(followup), followup)
    return found


def _confirm_on_target(
    route: Route, item: LinkedItem, missing: list[str], unconfirmed: set[str]
) -> list[str]:
    """What the target already shows is not copied again; the rest is still missing.

    A copy started but never confirmed (a crash, a lost answer) is completed; one the
    ledger never heard of (a lost or restored ledger) is noted as there. Content decides,
    as it does everywhere here, so a ledger's memory is never the only guard.
    """
    target = route.target
    on_target = _read_followups(
        route, item, target.followups(item.target_id), route.target_mapping, target.name
    )
    found = [(fp, on_target[fp].source_id) for fp in missing if fp in on_target]
    adopted = [(fp, remote_id) for fp, remote_id in found if fp in unconfirmed]
    if adopted:
        route.ledger.followups.complete(route.name, item.ref, target.name, adopted)
    if already := [(fp, remote_id) for fp, remote_id in found if fp not in unconfirmed]:
        route.ledger.followups.note(item.ref, target.name, already)
    found_fps = {fp for fp, _ in found}
    return [fp for fp in missing if fp not in found_fps]


def _may_copy(route: Route, followup: FollowUp) -> bool:
    # A confidential follow-up goes only where confidential complaints may go.
    return not followup.is_secret or route.target.receives_confidential


def _copy_followups(
    route: Route, item: LinkedItem, todo: list[tuple[str, FollowUp]], report: CycleReport
) -> None:
    ledger = route.ledger
    ledger.followups.record_intents(route.name, item.ref, [fp for fp, _ in todo], route.target.name)
    done: list[tuple[str, str | None]] = []
    refused: RecordError | None = None
    try:
        for fingerprint, followup in todo:
            try:
                payload = route.target_mapping.followup_to_native(followup)
                files = [route.source.download(a) for a in followup.attachments]
                attachments = [
                    a.model_copy(update={"content": c, "size": len(c)})
                    for a, c in zip(followup.attachments, files, strict=True)
                ]
                ledger.leases.check_fence(route.name)
                remote_id = route.target.add_followup(item.target_id, payload, attachments)
            except RecordError as exc:
                ledger.followups.fail(
                    route.name, item.ref, fingerprint, route.target.name, exc.reason
                )
                report.counts["followup_failed"] += 1
                refused = exc
                continue
            done.append((fingerprint, remote_id))
            report.counts["followup"] += 1
            log.info("followup.copied", route=route.name, ref=item.ref, target_id=remote_id)
    finally:
        if done:
            ledger.followups.complete(route.name, item.ref, route.target.name, done)
    if refused is not None:
        raise refused  # the others went through; this one is flagged and retried
