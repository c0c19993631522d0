"""A complaint's history: finding it by any id, and the decisions taken about it.

Every concept appends its own history lines as part of its writes
(``bridge.ledger.events``); this module reads a complaint's whole story back for
``bridge trace`` and records the engine's decisions (``conflict.resolved``,
``status.ignored`` …) as lines of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, union
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.followup_rows import of_complaints
from bridge.ledger.links import links_query, normal_ticket
from bridge.ledger.prepared import Prepared
from bridge.ledger.sql import require_ids
from bridge.ledger.tables import COMPLAINT, EVENT, LINK
from bridge.ledger.types import ComplaintTrace, EventInfo, LinkInfo


class History:
    """Complaints' histories: ``ledger.history``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def find(self, any_id: str) -> list[ComplaintTrace]:
        """Complaints whose ref, id in any system, or ticket in any system is ``any_id``.

        Refs and ids match exactly (after trimming); a ticket matches whatever its case,
        since people copy it from a letter or a screen.
        """
        wanted = any_id.strip()
        with self._db.read() as session:
            ids = sorted(cid for (cid,) in _FIND.rows(session, (wanted, normal_ticket(wanted))))
            return [_trace(session, cid) for cid in ids]

    def record_decision(self, route: str, ref: str, kind: str, detail: Mapping[str, Any]) -> None:
        """A decision (``conflict.resolved``, ``status.ignored`` …) as a line of the history.

        Keyed by its content: the same decision taken again every cycle is one line,
        not a new one per cycle.
        """
        with self._db.route_write(route) as session:
            cid = require_ids(session, [ref])[ref]
            text = json.dumps(detail, sort_keys=True, default=str)
            digest = hashlib.sha256(text.encode()).hexdigest()[:32]
            key = event_key("decision", route, kind, digest)
            named = detail.get("system")
            system = named if isinstance(named, str) else None
            row = event_row(cid, key, self._db.clock(), route, kind, system, {})
            add_events(session, [row | {"detail": text}])


def _trace(session: Session, cid: int) -> ComplaintTrace:
    complaint = _Complaint(*_COMPLAINT.rows(session, (cid,))[0])
    return ComplaintTrace(
        ref=complaint.ref,
        origin_system=complaint.origin_system,
        origin_id=complaint.origin_id,
        created_at=complaint.created_at,
        status=complaint.status,
        links=tuple(LinkInfo(*row) for row in _LINKS.rows(session, (cid,))),
        events=tuple(_event(_Event(*row)) for row in _EVENTS.rows(session, (cid,))),
        followups=tuple(of_complaints(session, [cid]).get(cid, [])),
        status_at=complaint.status_at,
        status_system=complaint.status_system,
    )


# A trace is read for a ``bridge trace`` and by the engine for each complaint whose
# identity may have left: its statements are prepared once (``bridge.ledger.prepared``).
_FIND = Prepared(
    ("wanted", "ticket"),
    lambda _dialect: union(
        select(COMPLAINT.c.id).where(COMPLAINT.c.ref == bindparam("wanted")),
        select(LINK.c.complaint_id).where(LINK.c.remote_id == bindparam("wanted")),
        select(LINK.c.complaint_id).where(LINK.c.ticket == bindparam("ticket")),
    ),
)
_COMPLAINT = Prepared(
    ("cid",),
    lambda _dialect: select(*(COMPLAINT.c[name] for name in _Complaint._fields)).where(
        COMPLAINT.c.id == bindparam("cid")
    ),
)
_LINKS = Prepared(
    ("cid",),
    lambda _dialect: (
        links_query().where(LINK.c.complaint_id == bindparam("cid")).order_by(LINK.c.id)
    ),
)
_EVENTS = Prepared(
    ("cid",),
    lambda _dialect: (
        select(EVENT)
        .where(EVENT.c.complaint_id == bindparam("cid"))
        .order_by(EVENT.c.at, EVENT.c.id)
    ),
)


class _Complaint(NamedTuple):
    id: int
    ref: str
    origin_system: str
    origin_id: str
    created_at: datetime
    status: str | None
    status_at: datetime | None
    status_system: str | None


class _Event(NamedTuple):
    id: int
    complaint_id: int
    key: str
    at: datetime
    route: str | None
    kind: str
    system: str | None
    detail: str


def _event(row: _Event) -> EventInfo:
    return EventInfo(
        at=row.at, kind=row.kind, route=row.route, system=row.system, detail=row.detail
    )
