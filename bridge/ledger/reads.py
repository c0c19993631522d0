"""Every ledger read, turned into the frozen values of ``bridge.ledger.types``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Row, Select, func, select, union
from sqlalchemy.orm import Session

from bridge.ledger import followups, reviews
from bridge.ledger.sql import chunks
from bridge.ledger.tables import (
    COMPLAINT,
    CURSOR,
    CYCLE_RUN,
    EVENT,
    LINK,
    PENDING_OP,
    QUARANTINE,
    REVIEW,
)
from bridge.ledger.types import (
    CREATE,
    PENDING_DONE,
    PENDING_STARTED,
    ComplaintTrace,
    CycleInfo,
    EventInfo,
    LinkInfo,
    PendingInfo,
    QuarantineInfo,
    RouteStatus,
)


def links_for(session: Session, system: str, remote_ids: Sequence[str]) -> dict[str, LinkInfo]:
    found: dict[str, LinkInfo] = {}
    for part in chunks(sorted(set(remote_ids))):
        query = links_query().where(LINK.c.system == system, LINK.c.remote_id.in_(part))
        found.update({link.remote_id: link for link in map(link_info, session.execute(query))})
    return found


def link_of(session: Session, ref: str, system: str) -> LinkInfo | None:
    query = links_query().where(COMPLAINT.c.ref == ref, LINK.c.system == system)
    row = session.execute(query).first()
    return None if row is None else link_info(row)


def find(session: Session, any_id: str) -> list[ComplaintTrace]:
    """Traces of the complaints whose ref, or any system's remote id, is ``any_id``."""
    by_ref = select(COMPLAINT.c.id).where(COMPLAINT.c.ref == any_id)
    by_remote = select(LINK.c.complaint_id).where(LINK.c.remote_id == any_id)
    ids = sorted(session.scalars(union(by_ref, by_remote)))
    return [_trace(session, cid) for cid in ids]


def pending_creates(
    session: Session, route: str, target_system: str, refs: Sequence[str] | None
) -> dict[str, PendingInfo]:
    base = (
        select(PENDING_OP, COMPLAINT.c.origin_system, COMPLAINT.c.origin_id)
        .join(COMPLAINT, COMPLAINT.c.id == PENDING_OP.c.complaint_id)
        .where(
            PENDING_OP.c.kind == CREATE,
            PENDING_OP.c.route == route,
            PENDING_OP.c.target_system == target_system,
            PENDING_OP.c.state == PENDING_STARTED,
        )
        .order_by(PENDING_OP.c.id)
    )
    parts = [base] if refs is None else [base.where(PENDING_OP.c.ref.in_(p)) for p in chunks(refs)]
    return {row.ref: _pending(row) for query in parts for row in session.execute(query)}


def get_cursor(session: Session, route: str, system: str) -> str | None:
    query = select(CURSOR.c.value).where(CURSOR.c.route == route, CURSOR.c.system == system)
    return session.scalars(query).first()


def quarantined(session: Session, route: str | None) -> list[QuarantineInfo]:
    query = select(QUARANTINE).order_by(QUARANTINE.c.route, QUARANTINE.c.last_seen)
    if route is not None:
        query = query.where(QUARANTINE.c.route == route)
    return [quarantine_info(row) for row in session.execute(query)]


def quarantined_ids(session: Session, route: str, system: str) -> set[str]:
    query = select(QUARANTINE.c.source_id).where(
        QUARANTINE.c.route == route, QUARANTINE.c.system == system
    )
    return set(session.scalars(query))


def route_status(session: Session, route: str) -> RouteStatus:
    runs = select(CYCLE_RUN).where(CYCLE_RUN.c.route == route)
    last = session.execute(runs.order_by(CYCLE_RUN.c.id.desc()).limit(1)).first()
    success = select(func.max(CYCLE_RUN.c.finished_at)).where(
        CYCLE_RUN.c.route == route, CYCLE_RUN.c.ok.is_(True)
    )
    cursors = select(CURSOR.c.system, CURSOR.c.value).where(CURSOR.c.route == route)
    return RouteStatus(
        route=route,
        last_cycle=None if last is None else _cycle(last),
        last_success_at=session.scalar(success),
        linked=_count_ops(session, route, PENDING_DONE),
        pending_creates=_count_ops(session, route, PENDING_STARTED),
        quarantined=_count(session, select(QUARANTINE.c.id).where(QUARANTINE.c.route == route)),
        cursors=dict(session.execute(cursors).all()),
        reviews=reviews.open_count(session, route),
    )


def routes(session: Session) -> list[str]:
    """Every route the ledger has heard of, in name order."""
    named = union(*(select(t.c.route) for t in (CYCLE_RUN, CURSOR, PENDING_OP, QUARANTINE, REVIEW)))
    return sorted(session.scalars(named))


def count_links(session: Session, system: str) -> int:
    return _count(session, select(LINK.c.id).where(LINK.c.system == system))


def links_query() -> Select[Any]:
    """Links with what their complaint adds, one column per ``LinkInfo`` field, in order."""
    return select(*_LINK_INFO_COLUMNS).join(COMPLAINT, COMPLAINT.c.id == LINK.c.complaint_id)


# Built positionally: naming 15 attributes of each Row cost more than the query
# itself when the engine reads a thousand links due for a poll.
_LINK_INFO_COLUMNS = tuple(
    COMPLAINT.c.created_at.label(name)
    if name == "complaint_created_at"
    else (
        COMPLAINT.c[name]
        if name in {"ref", "origin_system", "origin_id", "status"}
        else LINK.c[name]
    )
    for name in LinkInfo.__dataclass_fields__
)


def _trace(session: Session, cid: int) -> ComplaintTrace:
    complaint = session.execute(select(COMPLAINT).where(COMPLAINT.c.id == cid)).one()
    links = session.execute(links_query().where(LINK.c.complaint_id == cid).order_by(LINK.c.id))
    events = session.execute(
        select(EVENT).where(EVENT.c.complaint_id == cid).order_by(EVENT.c.at, EVENT.c.id)
    )
    return ComplaintTrace(
        ref=complaint.ref,
        origin_system=complaint.origin_system,
        origin_id=complaint.origin_id,
        created_at=complaint.created_at,
        status=complaint.status,
        links=tuple(link_info(row) for row in links),
        events=tuple(_event(row) for row in events),
        followups=tuple(followups.of_complaints(session, [cid]).get(cid, [])),
        status_at=complaint.status_at,
        status_system=complaint.status_system,
    )


def _count_ops(session: Session, route: str, state: str) -> int:
    query = select(PENDING_OP.c.id).where(
        PENDING_OP.c.kind == CREATE, PENDING_OP.c.route == route, PENDING_OP.c.state == state
    )
    return _count(session, query)


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def link_info(row: Row[Any]) -> LinkInfo:
    """A row of ``links_query`` as a ``LinkInfo``."""
    values: tuple[Any, ...] = tuple(row)
    return LinkInfo(*values)


def _event(row: Row[Any]) -> EventInfo:
    return EventInfo(
        at=row.at, kind=row.kind, route=row.route, system=row.system, detail=row.detail
    )


def _pending(row: Row[Any]) -> PendingInfo:
    return PendingInfo(
        ref=row.ref,
        route=row.route,
        origin_system=row.origin_system,
        origin_id=row.origin_id,
        target_system=row.target_system,
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sent_at=row.sent_at,
    )


def quarantine_info(row: Row[Any]) -> QuarantineInfo:
    """A quarantine row as the ``QuarantineInfo`` callers see."""
    return QuarantineInfo(
        id=row.id,
        route=row.route,
        system=row.system,
        source_id=row.source_id,
        reason=row.reason,
        field=row.field,
        attempts=row.attempts,
        record_json=row.record_json,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        retry_requested_at=row.retry_requested_at,
    )


def _cycle(row: Row[Any]) -> CycleInfo:
    counts: Mapping[str, int] = json.loads(row.counts)
    return CycleInfo(
        run_id=row.id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        ok=row.ok,
        counts=counts,
        error=row.error,
    )
