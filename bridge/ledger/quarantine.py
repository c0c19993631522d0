"""Working the quarantine: look at one record, ask for a retry, or drop it.

Records get into the quarantine through ``Ledger.set_aside`` and
``Ledger.complete_page``, and leave it when they go through (``release``). What
this module adds is for the person behind ``bridge quarantine``: a retry request
is only a mark; the next cycle of the record's route fetches the record again from
its source and sends it along the normal path, so a fixed mapping heals the backlog
exactly as if the record had just arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update

from bridge.ledger.leases import LeaseLedger
from bridge.ledger.reads import quarantine_info
from bridge.ledger.tables import QUARANTINE
from bridge.ledger.types import QuarantineInfo


class QuarantineLedger(LeaseLedger):
    """What ``bridge quarantine`` reads and changes."""

    def quarantine_item(self, item_id: int) -> QuarantineInfo | None:
        with self._read() as session:
            row = session.execute(select(QUARANTINE).where(QUARANTINE.c.id == item_id)).first()
            return None if row is None else quarantine_info(row)

    def request_retry(
        self, item_ids: Sequence[int] | None = None, *, route: str | None = None
    ) -> list[QuarantineInfo]:
        """Mark records for the next cycle to fetch again: these ids, or every one (of a route).

        Returns the records marked, so the caller knows which routes to run.
        """
        query = update(QUARANTINE).values(retry_requested_at=self._clock())
        if item_ids is not None:
            query = query.where(QUARANTINE.c.id.in_(list(item_ids)))
        if route is not None:
            query = query.where(QUARANTINE.c.route == route)
        with self._write() as session:
            ids = session.scalars(query.returning(QUARANTINE.c.id)).all()
            rows = session.execute(select(QUARANTINE).where(QUARANTINE.c.id.in_(ids)))
            return sorted((quarantine_info(row) for row in rows), key=lambda q: q.id)

    def parked(self, route: str, system: str) -> dict[str, str]:
        """Source id → stored (masked) record, for records set aside with no retry asked."""
        query = select(QUARANTINE.c.source_id, QUARANTINE.c.record_json).where(
            QUARANTINE.c.route == route,
            QUARANTINE.c.system == system,
            QUARANTINE.c.retry_requested_at.is_(None),
        )
        with self._read() as session:
            return {str(row[0]): str(row[1]) for row in session.execute(query).all()}

    def retry_requested(self, route: str, system: str) -> list[str]:
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
        with self._read() as session:
            return list(session.scalars(query))

    def drop_quarantined(self, item_id: int) -> QuarantineInfo | None:
        """Forget a quarantined record (it was handled by hand); returns what was dropped."""
        with self._write() as session:
            row = session.execute(select(QUARANTINE).where(QUARANTINE.c.id == item_id)).first()
            if row is None:
                return None
            session.execute(delete(QUARANTINE).where(QUARANTINE.c.id == item_id))
            return quarantine_info(row)

    def retry_failed(self, route: str, system: str, source_id: str, reason: str) -> None:
        """A retried record could not even be fetched: it stays, with this reason now."""
        with self._route_write(route) as session:
            session.execute(
                update(QUARANTINE)
                .where(
                    QUARANTINE.c.route == route,
                    QUARANTINE.c.system == system,
                    QUARANTINE.c.source_id == source_id,
                )
                .values(
                    reason=reason,
                    field=None,
                    attempts=QUARANTINE.c.attempts + 1,
                    last_seen=self._clock(),
                    retry_requested_at=None,
                )
            )
