"""A route's first full pass in a ledger: finding what the target already holds.

A new ledger, one restored from an old copy, or one that replaced a lost one does not
know the copies the bridge made before. Until a route has read its whole source once
in this ledger (the ledger key ``adopted:<route>``, cleared by ``bridge ledger accept``
and ``restore``), every record the ledger does not know is looked up in the target by
the bridge's reference before it is created: per record where the target can be
searched (the planner turns the create into a look-up), otherwise by reading the target
once, whole, for the references its records carry. While the route the other way has
not made its own pass, records carrying an unknown reference wait (``bridge.plan``).
"""

from __future__ import annotations

import dataclasses

import structlog

from bridge.cycle import CycleOptions, CycleReport, Route
from bridge.errors import RecordError
from bridge.model import carried_ref

log = structlog.get_logger("bridge.engine")

ADOPTED = "adopted:"
"""Ledger key prefix (``bridge.ledger.meta``): present once a route made its pass."""


def adopted(route: Route, name: str | None = None) -> bool:
    """Has ``route`` (or the route called ``name``) made its first full pass in this ledger?"""
    return route.ledger.meta.get(ADOPTED + (name or route.name)) is not None


def prepare(route: Route, options: CycleOptions) -> CycleOptions:
    """The cycle's options, with what this ledger does not know yet taken into account."""
    adopting = options.since is None and (options.adopting or not adopted(route))
    reverse = any(not adopted(route, name) for name in route.reverse_routes)
    options = dataclasses.replace(options, adopting=adopting, reverse_adopting=reverse)
    if not adopting:
        return options
    log.info("route.adoption.started", route=route.name, search=route.target.can_find_by_ref)
    if route.target.can_find_by_ref or options.adopt:
        return options
    return dataclasses.replace(options, adopt=_carried_by_target(route))


def finish(route: Route, options: CycleOptions, report: CycleReport) -> None:
    """Note a first pass done, unless a record it read is still owed to a later cycle."""
    if not options.adopting or options.dry_run or options.link_only:
        return
    if report.counts["unconfirmed"] or report.counts["waiting"]:
        return
    route.ledger.meta.set(ADOPTED + route.name, route.clock().isoformat())
    log.info("route.adoption.finished", route=route.name)


def _carried_by_target(route: Route) -> dict[str, str]:
    """Reference → target id, for the target's records that carry one and are not linked."""
    carried: dict[str, str] = {}
    for page in route.target.pull(None):
        for native in page:
            try:
                complaint = route.target_mapping.to_canonical(dict(native))
                target_id = route.target_mapping.native_id(dict(native))
            except RecordError:
                continue  # unreadable here: it is not a copy the bridge could have made
            if (ref := carried_ref(complaint)) is not None:
                carried.setdefault(ref, target_id)
    linked = route.ledger.links.by_remote(route.target.name, list(carried.values()))
    return {ref: target_id for ref, target_id in carried.items() if target_id not in linked}
