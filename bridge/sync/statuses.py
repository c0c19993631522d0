"""A linked complaint's status, carried from a route's source to its target.

``bridge.lifecycle.decide`` says whether the source's status moves the complaint on; if so
it is recorded, and written to the target when the target can take it (or the complaint
is forwarded, *Bukan Wewenang*, when the route says so). A target that lags behind the
ledger's status is brought level, once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog

from bridge.errors import RecordError
from bridge.lifecycle import RANK, Decision, decide
from bridge.model import Complaint, Status

if TYPE_CHECKING:
    from bridge.sync.report import CycleReport
    from bridge.sync.route import Route
    from bridge.sync.updates import LinkedItem

log = structlog.get_logger("bridge.linked")


def sync_status(
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
            route.memory.record_decision(
                item.ref, "status.ignored", _detail(route, complaint, decision)
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
        route.memory.check_fence()
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
    route.memory.check_fence()  # never write for a route another replica took
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
    link = route.memory.target_link(item.ref)
    if link is None:
        return
    shown = mapping.to_canonical_status(link.raw_status_code, link.raw_status_label)
    if shown == status or (shown is not None and RANK[shown] >= RANK[status]):
        return
    try:
        fields = mapping.status_to_native(status)
    except RecordError:
        return  # the target has no code for it: nothing to catch up with
    route.memory.check_fence()  # never write for a route another replica took
    route.target.set_status(item.target_id, fields)
    report.counts["status"] += 1
    log.info("complaint.status.caught_up", route=route.name, ref=item.ref, status=status.value)
    route.memory.record_status(
        item.ref,
        status=status.value,
        at=datetime.now(UTC),
        written=True,
        raw_code=mapping.status_code(status),
        note="caught up",
    )


def _record(
    route: Route, item: LinkedItem, status: Status, at: datetime, *, written: bool, note: str | None
) -> None:
    raw_code = None
    if written and route.target_mapping.can_write_status:
        try:
            raw_code = route.target_mapping.status_code(status)
        except RecordError:
            raw_code = None  # forwarded: the target's status is LAPOR!'s to set
    route.memory.record_status(
        item.ref, status=status.value, at=at, written=written, raw_code=raw_code, note=note
    )


def _flag_status(
    route: Route, item: LinkedItem, complaint: Complaint, decision: Decision, report: CycleReport
) -> None:
    route.memory.flag_for_review(
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
