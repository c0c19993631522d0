"""A complaint's normalised status, when it changed and who set it; conflict decisions.

The engine decides (which side wins, whether a change is older than what the
ledger holds); these functions only record the outcome and its history line, in
the caller's transaction (see ``bridge.ledger.writes``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bridge.ledger.sql import chunks, require_ids
from bridge.ledger.tables import COMPLAINT, LINK
from bridge.ledger.types import ComplaintState
from bridge.ledger.writes import add_events, event_key, event_row


def complaint_states(session: Session, refs: Sequence[str]) -> dict[str, ComplaintState]:
    """ref → state, for the refs the ledger knows."""
    found: dict[str, ComplaintState] = {}
    columns = (
        COMPLAINT.c.ref,
        COMPLAINT.c.status,
        COMPLAINT.c.status_at,
        COMPLAINT.c.status_system,
        COMPLAINT.c.created_at,
    )
    for part in chunks(sorted(set(refs))):
        query = select(*columns).where(COMPLAINT.c.ref.in_(part))
        found.update({row.ref: ComplaintState(*row) for row in session.execute(query)})
    return found


def record_status(
    session: Session,
    route: str,
    ref: str,
    *,
    status: str,
    at: datetime,
    system: str,
    written_to: str | None,
    raw: tuple[str | None, str | None],
    note: str | None,
    now: datetime,
) -> None:
    """Set the status (and the raw values written to ``written_to``) with one history line."""
    if at.utcoffset() is None:
        raise ValueError("record_status needs an aware `at`; give the source's zone")
    cid = require_ids(session, [ref])[ref]
    old = session.scalar(select(COMPLAINT.c.status).where(COMPLAINT.c.id == cid))
    session.execute(
        update(COMPLAINT)
        .where(COMPLAINT.c.id == cid)
        .values(status=status, status_at=at, status_system=system)
    )
    if written_to is not None:
        code, label = raw
        session.execute(
            update(LINK)
            .where(LINK.c.complaint_id == cid, LINK.c.system == written_to)
            .values(raw_status_code=code, raw_status_label=label, updated_at=now)
        )
    detail = {
        "old": old,
        "new": status,
        "at": at.isoformat(),
        "system": system,
        "written_to": written_to,
        "note": note,
    }
    # The same change recorded again (a retried call) is the same history line.
    key = event_key("status", status, _instant(at), system, written_to or "-")
    add_events(session, [event_row(cid, key, now, route, "status.changed", system, detail)])


def record_decision(
    session: Session,
    route: str,
    ref: str,
    kind: str,
    detail: Mapping[str, Any],
    now: datetime,
) -> None:
    """A decision (``conflict.resolved``, ``status.ignored`` …) as a line of the history.

    Keyed by its content: the same decision taken again every cycle is one line,
    not a new one per cycle.
    """
    cid = require_ids(session, [ref])[ref]
    text = json.dumps(detail, sort_keys=True, default=str)
    key = event_key("decision", route, kind, hashlib.sha256(text.encode()).hexdigest()[:32])
    system = detail.get("system")
    row = event_row(cid, key, now, route, kind, system if isinstance(system, str) else None, {})
    add_events(session, [row | {"detail": text}])


def _instant(at: datetime) -> str:
    """``at`` as a UTC key part, so one instant given in two zones is one key."""
    return at.astimezone(UTC).isoformat()
