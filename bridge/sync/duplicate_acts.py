"""The duplicate check's outcome, carried out in act (``bridge.sync.duplicates`` reads it).

``link_duplicate`` links the record to the complaint it duplicates (nothing is created;
the decision and its evidence go to the complaint's history); ``hold_duplicate`` sets it
aside for ``bridge review`` with the evidence, until a person decides.
"""

from __future__ import annotations

import structlog

from bridge.ledger import CreateResult
from bridge.ledger.duplicates import LINKED, REVIEW
from bridge.sync.plan import HoldDuplicate, LinkDuplicate
from bridge.sync.quarantine import quarantine
from bridge.sync.report import CycleReport, line_for
from bridge.sync.route import Route

log = structlog.get_logger("bridge.engine")


def link_duplicate(route: Route, action: LinkDuplicate, report: CycleReport) -> CreateResult:
    """Link the record to the complaint it duplicates; the decision joins its history."""
    observation, found = action.observation, action.evidence
    route.ledger.duplicates.record(
        route.name,
        route.source.name,
        observation.source_id,
        action.own_ref,
        action.text,
        LINKED,
        [found.as_detail()],
    )
    report.add(line_for(action))
    log.info(
        "complaint.duplicate_linked",
        route=route.name,
        source_id=observation.source_id,
        ref=action.ref,
        score=round(found.score, 1),
        exact=found.exact,
        shared_keys=list(found.shared_keys),
    )
    seen = observation.seen_hash or ""
    return CreateResult(action.ref, route.source.name, observation.source_id, seen, adopted=True)


def hold_duplicate(route: Route, action: HoldDuplicate, report: CycleReport) -> None:
    """Set the record aside for a person, with the candidates and their evidence."""
    observation = action.observation
    route.ledger.duplicates.record(
        route.name,
        route.source.name,
        observation.source_id,
        action.ref,
        action.text,
        REVIEW,
        [e.as_detail() for e in action.candidates],
    )
    quarantine(route, observation, action.reason, None, report)
