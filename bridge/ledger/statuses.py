"""A complaint's normalised status: what it is, when it changed and which system set it.

The engine decides (which side wins, whether a change is older than what the
ledger holds); the ledger only records the outcome and its history line.
The session functions run inside the caller's transaction, so other concepts
(links, creates) store a status as part of their own writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.prepared import Prepared
from bridge.ledger.sql import chunks, require_ids
from bridge.ledger.tables import COMPLAINT, LINK
from bridge.ledger.types import ComplaintState


class Statuses:
    """Complaint statuses: ``ledger.statuses``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def of(self, refs: Sequence[str]) -> dict[str, ComplaintState]:
        """ref → status, when it changed and who set it, for the refs the ledger knows."""
        with self._db.read() as session:
            return complaint_states(session, refs)

    def record(
        self,
        route: str,
        ref: str,
        *,
        status: str,
        at: datetime,
        system: str,
        written_to: str | None = None,
        raw_code: str | None = None,
        raw_label: str | None = None,
        note: str | None = None,
    ) -> None:
        """Set the complaint's status as of ``at`` (set by ``system``), with a history line.

        With ``written_to``, the bridge wrote the status there: that link's raw code
        and label become ``raw_code``/``raw_label``, so the write is not read back
        later as a change made on that system.
        """
        with self._db.route_write(route) as session:
            record_status(
                session,
                route,
                ref,
                status=status,
                at=at,
                system=system,
                written_to=written_to,
                raw=(raw_code, raw_label),
                note=note,
                now=self._db.clock(),
            )


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
        raise ValueError("statuses.record needs an aware `at`; give the source's zone")
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


def set_statuses(session: Session, pairs: Sequence[tuple[int, str | None]]) -> None:
    """Store a normalised status where the caller knows one; None leaves it as it was."""
    params = [(status, cid) for cid, status in dict(pairs).items() if status]
    if params:
        _SET_STATUS.run(session, params)


_SET_STATUS = Prepared(
    ("status", "cid"),
    lambda _dialect: (
        update(COMPLAINT)
        .where(COMPLAINT.c.id == bindparam("cid"))
        .values(status=bindparam("status"))
    ),
)


def _instant(at: datetime) -> str:
    """``at`` as a UTC key part, so one instant given in two zones is one key."""
    return at.astimezone(UTC).isoformat()
