"""The quarantine: records set aside with a reason, until they go through.

A record that cannot be read or sent is added (``add``, or with its page in
``ledger.cycles.complete_page``); adding it again counts one more attempt. It is
released when it goes through. The person behind ``bridge quarantine`` can look at
one record, ask for a retry, or drop it: a retry request is only a mark; the next
cycle of the record's route fetches the record again from its source and sends it
along the normal path, so a fixed mapping heals the backlog exactly as if the record
had just arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, case, delete, null, select, update
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.sql import storable, upsert
from bridge.ledger.tables import LINK, QUARANTINE
from bridge.ledger.types import QuarantineInfo, SetAside
from bridge.privacy import scrub_text
from bridge.privacy.retention import is_purged, purged_marker

# quarantine.source_id and quarantine.field are VARCHAR(200).
_ID_LIMIT = 200


class Quarantine:
    """Records set aside, and working them: ``ledger.quarantine``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        route: str,
        system: str,
        source_id: str,
        reason: str,
        field: str | None,
        record_json: str,
        *,
        tried_since: datetime | None = None,
    ) -> None:
        """Quarantine a record (already masked by the caller); again counts one more attempt.

        A retry asked for after ``tried_since`` (when the cycle setting it aside began) is
        kept: the cycle read the record before the person asked, so it was not tried.
        """
        item = SetAside(system, source_id, reason, field, record_json)
        with self._db.route_write(route) as session:
            set_aside(session, route, [item], self._db.clock(), tried_since)

    def release(self, route: str, system: str, source_id: str) -> None:
        """Take a record out of quarantine: it went through."""
        with self._db.route_write(route) as session:
            release(session, route, [(system, source_id)])

    def listed(self, route: str | None = None) -> list[QuarantineInfo]:
        """Every quarantined record (of ``route``), by route and last seen."""
        query = select(QUARANTINE).order_by(QUARANTINE.c.route, QUARANTINE.c.last_seen)
        if route is not None:
            query = query.where(QUARANTINE.c.route == route)
        with self._db.read() as session:
            return [quarantine_info(row) for row in session.execute(query)]

    def ids(self, route: str, system: str) -> set[str]:
        """Source ids of ``route``'s records from ``system`` in quarantine."""
        query = select(QUARANTINE.c.source_id).where(
            QUARANTINE.c.route == route, QUARANTINE.c.system == system
        )
        with self._db.read() as session:
            return set(session.scalars(query))

    def item(self, item_id: int) -> QuarantineInfo | None:
        with self._db.read() as session:
            row = session.execute(select(QUARANTINE).where(QUARANTINE.c.id == item_id)).first()
            return None if row is None else quarantine_info(row)

    def held(self, route: str, system: str) -> dict[str, str]:
        """Source id → stored (masked) record, for records quarantined with no retry asked."""
        query = select(QUARANTINE.c.source_id, QUARANTINE.c.record_json).where(
            QUARANTINE.c.route == route,
            QUARANTINE.c.system == system,
            QUARANTINE.c.retry_requested_at.is_(None),
        )
        with self._db.read() as session:
            return {str(row[0]): str(row[1]) for row in session.execute(query).all()}

    def request_retry(
        self, item_ids: Sequence[int] | None = None, *, route: str | None = None
    ) -> list[QuarantineInfo]:
        """Mark records for the next cycle to fetch again: these ids, or every one (of a route).

        Returns the records marked, so the caller knows which routes to run.
        """
        query = update(QUARANTINE).values(retry_requested_at=self._db.clock())
        if item_ids is not None:
            query = query.where(QUARANTINE.c.id.in_(list(item_ids)))
        if route is not None:
            query = query.where(QUARANTINE.c.route == route)
        with self._db.write() as session:
            ids = session.scalars(query.returning(QUARANTINE.c.id)).all()
            rows = session.execute(select(QUARANTINE).where(QUARANTINE.c.id.in_(ids)))
            return sorted((quarantine_info(row) for row in rows), key=lambda q: q.id)

    def to_retry(self, route: str, system: str) -> list[str]:
        """Source ids of ``route`` whose retry was asked for, oldest request first."""
        query = (
            select(QUARANTINE.c.source_id)
            .where(
                QUARANTINE.c.route == route,
                QUARANTINE.c.system == system,
                QUARANTINE.c.retry_requested_at.is_not(None),
            )
            .order_by(QUARANTINE.c.retry_requested_at, QUARANTINE.c.id)
        )
        with self._db.read() as session:
            return list(session.scalars(query))

    def retry_failed(self, route: str, system: str, source_id: str, reason: str) -> None:
        """A retried record could not even be fetched: it stays, with this reason now."""
        with self._db.route_write(route) as session:
            session.execute(
                update(QUARANTINE)
                .where(
                    QUARANTINE.c.route == route,
                    QUARANTINE.c.system == system,
                    QUARANTINE.c.source_id == source_id,
                )
                .values(
                    reason=storable(scrub_text(reason)),
                    field=None,
                    attempts=QUARANTINE.c.attempts + 1,
                    last_seen=self._db.clock(),
                    retry_requested_at=None,
                )
            )

    def purge(self, days: int, *, dry_run: bool = False) -> list[QuarantineInfo]:
        """Replace the stored payloads set aside more than ``days`` ago by a purge marker.

        The rows stay (id, reason, attempts); returns the records purged, or that would be.
        """
        now = self._db.clock()
        cutoff = now - timedelta(days=days)
        query = select(QUARANTINE).where(QUARANTINE.c.last_seen < cutoff)
        with self._db.write() as session:
            rows = [r for r in session.execute(query) if not is_purged(r.record_json)]
            if not dry_run:
                for row in rows:
                    session.execute(
                        update(QUARANTINE)
                        .where(QUARANTINE.c.id == row.id)
                        .values(record_json=purged_marker(row.record_json, now))
                    )
                _record_purges(session, rows, days, now)
            return [quarantine_info(row) for row in rows]

    def drop(self, item_id: int) -> QuarantineInfo | None:
        """Forget a quarantined record (it was handled by hand); returns what was dropped."""
        with self._db.write() as session:
            row = session.execute(select(QUARANTINE).where(QUARANTINE.c.id == item_id)).first()
            if row is None:
                return None
            session.execute(delete(QUARANTINE).where(QUARANTINE.c.id == item_id))
            return quarantine_info(row)


def set_aside(
    session: Session,
    route: str,
    items: Sequence[SetAside],
    now: datetime,
    tried_since: datetime | None = None,
) -> None:
    """Quarantine records; a record already set aside counts one more attempt.

    Its retry request is taken as tried, unless it was made after ``tried_since``.
    """
    if not items:  # most pages: nothing to build a statement for
        return
    # A reason or a record may quote what the source sent (a NUL, an overlong field):
    # escaped and cut, so that setting a record aside can never fail.
    rows = [
        {
            "route": route,
            "system": i.system,
            "source_id": storable(i.source_id, _ID_LIMIT),
            "reason": storable(scrub_text(i.reason)),
            "field": None if i.field is None else storable(i.field, _ID_LIMIT),
            "attempts": 1,
            "record_json": storable(i.record_json),
            "first_seen": now,
            "last_seen": now,
        }
        for i in {(i.system, i.source_id): i for i in items}.values()
    ]
    upsert(
        session,
        QUARANTINE,
        rows,
        keys=("route", "system", "source_id"),
        copy=("reason", "field", "record_json", "last_seen"),
        # Set aside again: whatever retry was asked for has now been tried, but for one asked
        # while the cycle ran (a person's duplicate decision, `bridge quarantine retry`):
        # cleared, it was lost, and the record stayed aside with nothing left to decide.
        set_={"attempts": QUARANTINE.c.attempts + 1, "retry_requested_at": _tried(tried_since)},
    )


def _tried(tried_since: datetime | None) -> ColumnElement[Any]:
    """The retry request left once a record is set aside again (see ``set_aside``)."""
    if tried_since is None:
        return null()
    asked = QUARANTINE.c.retry_requested_at
    return case((asked > tried_since, asked), else_=null())


def _record_purges(session: Session, rows: Sequence[Row[Any]], days: int, now: datetime) -> None:
    """A history line on each linked complaint whose set-aside payload was purged (no value)."""
    lines = []
    for row in rows:
        cid = session.scalar(
            select(LINK.c.complaint_id).where(
                LINK.c.system == row.system, LINK.c.remote_id == row.source_id
            )
        )
        if cid is not None:
            key = event_key("quarantine.purged", row.route, str(row.id), now.isoformat())
            detail = {"quarantine_id": row.id, "retention_days": days}
            lines.append(
                event_row(cid, key, now, row.route, "quarantine.purged", row.system, detail)
            )
    add_events(session, lines)


def release(session: Session, route: str, keys: Sequence[tuple[str, str]]) -> None:
    """Take records out of quarantine: they went through."""
    if not keys:
        return
    session.execute(
        delete(QUARANTINE).where(
            QUARANTINE.c.route == route,
            QUARANTINE.c.system == bindparam("system"),
            QUARANTINE.c.source_id == bindparam("source_id"),
        ),
        [{"system": system, "source_id": source_id} for system, source_id in keys],
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
