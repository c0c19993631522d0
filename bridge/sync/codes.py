"""Codes never hold a complaint back: one read or written as its table's fallback is flagged.

Both ways. The source mapping delivers a complaint whose category *code* it does not list
with the table's ``fallback``; the target mapping writes a canonical *value* it has no code
for as the fallback's code (``bridge.mapping``). Either way a person still has to add the
code, so the complaint is flagged for review (kind ``code``, one flag per system) the way an
unknown status is, naming the code, the table and the fix.

``act`` calls this for whatever a page delivered, also when the page stopped part-way (a 429,
the bridge stopping): a create owed to a later cycle is flagged when that cycle delivers it,
and a flag raised again only counts one more sighting of the same flag.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from bridge.ledger import CreateResult
from bridge.sync.plan import Sends
from bridge.sync.report import CycleReport
from bridge.sync.route import Route

log = structlog.get_logger("bridge.codes")

Found = list[tuple[str, str, str]]
"""(value table, code or canonical value, fallback) of each fallback used."""


def flag_fallbacks(
    route: Route, sends: Sequence[Sends], results: Sequence[CreateResult], report: CycleReport
) -> None:
    """Flag each delivered complaint whose codes were read or written as a fallback."""
    delivered = {result.ref for result in results}
    for action in sends:
        if action.ref not in delivered:
            continue
        read = route.source_mapping.fallback_codes(action.observation.native)
        if read:
            reason = "; ".join(
                f"{table} code {code} is not in [values.{table}] of the {route.source.name} "
                f"mapping: delivered as {fallback!r}"
                for table, code, fallback in read
            )
            fix = f"add the code (`bridge mapping codes {route.source.name}` lists them)"
            _flag(route, action.ref, route.source.name, f"{reason}; {fix}", read, report)
        written = route.target_mapping.fallback_values(action.outgoing.complaint)
        if written:
            target = route.target.name
            reason = "; ".join(
                f"{table} {value!r} has no code in [values.{table}] of the {target} mapping: "
                f"written as {fallback!r}"
                for table, value, fallback in written
            )
            fix = f"add a {target} code for it to that table, or map the source's code to one"
            _flag(route, action.ref, target, f"{reason}; {fix}", written, report)


def _flag(
    route: Route, ref: str, system: str, reason: str, found: Found, report: CycleReport
) -> None:
    route.memory.flag_for_review(
        ref,
        system,
        "code",
        reason,
        {"codes": [{"table": t, "code": c, "fallback": f} for t, c, f in found]},
    )
    report.counts["review"] += 1
    log.warning("complaint.code.review", route=route.name, ref=ref, system=system, codes=len(found))
