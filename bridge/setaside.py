"""Records set aside (the quarantine) as the engine sees them in a cycle.

- ``set_aside`` quarantines a record with its reason, masked;
- ``requested_again`` fetches the records a person asked to retry, by id, so they take
  the normal path even when the source's cursor has long passed them;
- ``unparked`` leaves out records still set aside exactly as they were, so a record
  the target refuses costs one attempt, not one per cycle;
- ``healed`` lists the set-aside records that went through, to leave the quarantine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import structlog

from bridge.connector import NativeRecord
from bridge.cycle import CycleReport, PlannedLine, Route
from bridge.errors import RecordError
from bridge.ledger import CreateResult
from bridge.log import redact_record
from bridge.plan import Action, Create, Observation, Resume, SetAside, Skip, Withhold

log = structlog.get_logger("bridge.engine")


# Records fetched again per page when a retry was asked for (``bridge quarantine retry``).
RETRY_PAGE = 100


def requested_again(route: Route, report: CycleReport) -> Iterator[list[NativeRecord]]:
    """Quarantined records a person asked to retry, fetched fresh from the source.

    They then take the normal path, page by page, so a fixed mapping or a fixed
    record in the source heals them exactly as if they had just arrived. One that
    the source no longer has stays set aside, saying so.
    """
    ids = route.ledger.quarantine.to_retry(route.name, route.source.name)
    for start in range(0, len(ids), RETRY_PAGE):
        page = []
        for source_id in ids[start : start + RETRY_PAGE]:
            native = route.source.get(source_id)
            if native is not None:
                page.append(native)
                continue
            reason = GONE.format(source=route.source.name)
            route.ledger.quarantine.retry_failed(route.name, route.source.name, source_id, reason)
            report.add(PlannedLine("set_aside", source_id, reason=reason))
        if page:
            yield page


def native_id(route: Route, native: NativeRecord) -> str | None:
    """The record's id in its source, or None when it has none that can be read."""
    try:
        return route.source_mapping.native_id(dict(native))
    except RecordError:
        return None


GONE = (
    "{source} no longer has this record (or it has no id to fetch it by): fix or re-enter "
    "it there, or drop it from the quarantine"
)


PARKED = "set aside earlier and unchanged since; see `bridge quarantine show`"


def unparked(
    observations: list[Observation], parked: Mapping[str, str], report: CycleReport
) -> list[Observation]:
    """Leave out records still set aside exactly as they were (TRAPS.md: a few always-failing
    records must not cost a create attempt every cycle, nor starve the rest).

    A record comes back as soon as it changes in its source, or when a person asks
    (``bridge quarantine retry``). The stored copy is masked with a per-process key,
    so each start of the bridge also tries every set-aside record once more.
    """
    kept = []
    for observation in observations:
        stored = parked.get(observation.source_id)
        if stored is not None and stored == dump(redact_record(observation.native)):
            report.add(PlannedLine("skip", observation.source_id, reason=PARKED))
        else:
            kept.append(observation)
    return kept


def set_aside(
    route: Route,
    observation: Observation,
    reason: str,
    field_name: str | None,
    report: CycleReport,
) -> None:
    record_json = dump(redact_record(observation.native))
    route.ledger.quarantine.add(
        route.name, route.source.name, observation.source_id, reason, field_name, record_json
    )
    report.add(PlannedLine("set_aside", observation.source_id, reason=reason))
    log.warning(
        "complaint.set_aside",
        route=route.name,
        source_id=observation.source_id,
        reason=reason,
        field=field_name,
    )


def healed(
    route: Route,
    actions: Sequence[Action],
    results: Sequence[CreateResult],
    quarantined: set[str],
) -> list[tuple[str, str]]:
    """Records that went through after being set aside: they leave the quarantine.

    A create counts once it was delivered (or adopted); anything else but another
    set-aside means the record reads well now.
    """
    delivered = {r.ref for r in results}
    healed = []
    for action in actions:
        source_id = source_id_of(action)
        if source_id not in quarantined or isinstance(action, SetAside):
            continue
        if isinstance(action, Create | Resume) and action.ref not in delivered:
            continue
        healed.append((route.source.name, source_id))
        quarantined.discard(source_id)
    return healed


def source_id_of(action: Action) -> str:
    if isinstance(action, Skip | Withhold):
        return action.source_id
    return action.observation.source_id


def dump(record: Mapping[str, Any]) -> str:
    # ASCII escapes: a record may hold a lone surrogate (a JSON "\ud800"), which cannot
    # be encoded for the memo's digest nor stored in PostgreSQL as text.
    return json.dumps(record, sort_keys=True, ensure_ascii=True, default=str)
