"""Codes never hold a complaint back: one read as its table's fallback is flagged for review.

The mapping delivers a complaint whose category code it does not list with the table's
``fallback`` (``bridge.mapping``); a person still has to add the code, so the complaint is
flagged for review the way an unknown status is, naming the code, the table and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from bridge.ledger import CreateResult
from bridge.sync.plan import Sends
from bridge.sync.report import CycleReport
from bridge.sync.route import Route

log = structlog.get_logger("bridge.codes")


def flag_fallbacks(
    route: Route, sends: Sequence[Sends], results: Sequence[CreateResult], report: CycleReport
) -> None:
    """Flag each delivered complaint whose source codes were read as a fallback."""
    delivered = {result.ref for result in results}
    for action in sends:
        if action.ref not in delivered:
            continue
        found = route.source_mapping.fallback_codes(action.observation.native)
        if not found:
            continue
        reason = "; ".join(
            f"{table} code {code} is not in [values.{table}] of the {route.source.name} "
            f"mapping: delivered as {fallback!r}"
            for table, code, fallback in found
        )
        fix = f"add the code (`bridge mapping codes {route.source.name}` lists them)"
        route.memory.flag_for_review(
            action.ref,
            route.source.name,
            "code",
            f"{reason}; {fix}",
            {"codes": [{"table": t, "code": c, "fallback": f} for t, c, f in found]},
        )
        report.counts["review"] += 1
        log.warning("complaint.code.review", route=route.name, ref=action.ref, codes=len(found))
