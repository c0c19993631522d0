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
from typing import Any

from sqlalchemy import Row, select, union
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.followup_rows import of_complaints
from bridge.ledger.links import link_info, links_query, normal_ticket
from bridge.ledger.sql import require_ids
from bridge.ledger.tables import COMPLAINT, EVENT, LINK
from bridge.ledger.types import ComplaintTrace, EventInfo


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
        by_ref = select(COMPLAINT.c.id).where(COMPLAINT.c.ref == wanted)
        by_remote = select(LINK.c.complaint_id).where(LINK.c.remote_id == wanted)
        by_ticket = select(LINK.c.complaint_id).where(LINK.c.ticket == normal_ticket(wanted))
        with self._db.read() as session:
            ids = sorted(session.scalars(union(by_ref, by_remote, by_ticket)))
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
        followups=tuple(of_complaints(session, [cid]).get(cid, [])),
        status_at=complaint.status_at,
        status_system=complaint.status_system,
    )


def _event(row: Row[Any]) -> EventInfo:
    return EventInfo(
        at=row.at, kind=row.kind, route=row.route, system=row.system, detail=row.detail
    )
