"""The quarantine as a cycle sees it: records set aside, retried, and released.

- ``quarantine`` sets a record aside with its reason, the stored copy masked;
- ``retries`` fetches the records a person asked to retry (``bridge quarantine retry``),
  by id, so they take the normal path even when the source's cursor has long passed them;
- ``released`` lists the quarantined records that went through, to leave the quarantine.

A record quarantined and unchanged since is not tried again every cycle: the planner
skips it (``bridge.sync.plan`` step 1, from ``bridge.sync.observe``'s facts).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import structlog

from bridge.connector import NativeRecord
from bridge.errors import RecordError
from bridge.ledger import CreateResult
from bridge.privacy import confidential_stub, redact_record, scrub_text_of
from bridge.sync.facts import Observation
from bridge.sync.observe import dump
from bridge.sync.plan import (
    QUARANTINED_UNCHANGED,
    Action,
    Create,
    HoldDuplicate,
    Link,
    Quarantine,
    Skip,
    Withhold,
)
from bridge.sync.report import CycleReport, PlannedLine
from bridge.sync.route import Route

log = structlog.get_logger("bridge.engine")


def stored_copy(route: Route, observation: Observation) -> str:
    """What the ledger keeps of a record set aside: masked, and of a rahasia one only its id."""
    complaint = observation.complaint
    if complaint is None:
        secret = route.source_mapping.is_secret_of(dict(observation.native))
    else:
        secret = complaint.is_secret
    if secret:
        return dump(confidential_stub(observation.native, observation.source_id))
    return dump(redact_record(observation.native))


def quarantine(
    route: Route,
    observation: Observation,
    reason: str,
    field_name: str | None,
    report: CycleReport,
) -> None:
    """Set ``observation`` aside with its reason; the stored copy is masked."""
    record_json = stored_copy(route, observation)
    if observation.complaint is not None:  # its reporter's name, where a refusal quotes it
        reason = scrub_text_of(reason, [observation.complaint.reporter.name])
    route.memory.quarantine(observation.source_id, reason, field_name, record_json)
    report.add(PlannedLine("set_aside", observation.source_id, reason=reason))
    log.warning(
        "complaint.set_aside",
        route=route.name,
        source_id=observation.source_id,
        reason=reason,
        field=field_name,
    )


# Records fetched again per page when a retry was asked for (``bridge quarantine retry``).
RETRY_PAGE = 100


def retries(route: Route, report: CycleReport) -> Iterator[list[NativeRecord]]:
    """Quarantined records a person asked to retry, fetched fresh from the source.

    They then take the normal path, page by page, so a fixed mapping or a fixed
    record in the source releases them exactly as if they had just arrived. One that
    the source no longer has stays quarantined, saying so.
    """
    ids = route.memory.quarantine_to_retry()
    for start in range(0, len(ids), RETRY_PAGE):
        page = []
        for source_id in ids[start : start + RETRY_PAGE]:
            native = route.source.get(source_id)
            if native is not None:
                page.append(native)
                continue
            reason = GONE.format(source=route.source.name)
            route.memory.retry_failed(source_id, reason)
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


def released(
    actions: Sequence[Action], results: Sequence[CreateResult], quarantined: set[str]
) -> list[str]:
    """Quarantined records that went through: they leave the quarantine.

    A create counts once it was delivered (or linked); anything else but another
    quarantine, or a wait, means the record reads well now.
    """
    delivered = {r.ref for r in results}
    leaving = []
    for action in actions:
        source_id = source_id_of(action)
        if source_id not in quarantined or isinstance(action, Quarantine | HoldDuplicate):
            continue
        if isinstance(action, Skip) and action.reason == QUARANTINED_UNCHANGED:
            continue  # not even tried again
        if isinstance(action, Skip) and action.owed:
            # Waiting (a copy of a record the page creates, a create not confirmed yet):
            # nothing went. Released, a record fetched by retry would be lost, as the
            # cursor passed it long ago; kept, with its retry still asked, it comes again.
            continue
        if isinstance(action, Create | Link) and action.ref not in delivered:
            continue
        leaving.append(source_id)
        quarantined.discard(source_id)
    return leaving


def source_id_of(action: Action) -> str:
    if isinstance(action, Skip | Withhold):
        return action.source_id
    return action.observation.source_id
