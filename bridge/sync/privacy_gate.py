"""The rahasia gate on every copy after the first: statuses, forwards, follow-ups.

The first copy is gated by the plan (step 8). A complaint may become rahasia after it
was linked (LAPOR! admins mark it so, a door's officer ticks the box); from that moment
nothing more of it goes to a target not marked ``receives_confidential``, and a person is
asked to look at what that target already holds (UU 27/2022 makes the agency answerable
for every copy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from bridge.model import Complaint

if TYPE_CHECKING:
    from bridge.sync.report import CycleReport
    from bridge.sync.route import Route
    from bridge.sync.updates import LinkedItem

log = structlog.get_logger("bridge.privacy")

BECAME_CONFIDENTIAL = (
    "the complaint is rahasia (confidential) at {source}, but {target} is not marked "
    "receives_confidential: nothing more of it (status, follow-ups, forwards) is copied there. "
    "Check what {target} already holds of it (`bridge trace {ref}`) and remove it there if "
    "it must not be kept; then resolve this flag"
)


def withheld_confidential(
    route: Route, item: LinkedItem, complaint: Complaint, report: CycleReport
) -> bool:
    """True (and flagged for review) when ``complaint`` may no longer be copied to the target."""
    if not complaint.is_secret or route.target.receives_confidential:
        return False
    source, target = route.source.name, route.target.name
    reason = BECAME_CONFIDENTIAL.format(source=source, target=target, ref=item.ref)
    route.memory.flag_for_review(
        item.ref, target, "confidential", reason, {"source_id": item.source_id}
    )
    report.counts["withhold"] += 1
    log.warning("complaint.confidential.withheld", route=route.name, ref=item.ref)
    return True
