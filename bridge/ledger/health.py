"""Connector health in the ledger: failures in a row, and the pause they caused.

The decisions (when to pause, for how long) are ``bridge.health``'s; this module
stores them, one row per connector, shared by every route and replica.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bridge.health import ConnectorHealth, PausePolicy
from bridge.ledger import sql
from bridge.ledger.base import Database
from bridge.ledger.tables import CONNECTOR_HEALTH
from bridge.privacy import scrub_text

ERROR_LIMIT = 500


class Health:
    """Connector failures and pauses: ``ledger.health``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def listed(self, connectors: Sequence[str] | None = None) -> list[ConnectorHealth]:
        """Every connector with a failure on record (or those named), by name."""
        query = select(CONNECTOR_HEALTH).order_by(CONNECTOR_HEALTH.c.connector)
        if connectors is not None:
            query = query.where(CONNECTOR_HEALTH.c.connector.in_(list(connectors)))
        with self._db.read() as session:
            return [_health(row) for row in session.execute(query)]

    def note_failure(
        self, connector: str, error: BaseException, policy: PausePolicy
    ) -> ConnectorHealth:
        """Count one more failure in a row; pause the connector when the policy says so."""
        now = self._db.clock()
        text = sql.storable(scrub_text(f"{type(error).__name__}: {error}"), ERROR_LIMIT)
        table = CONNECTOR_HEALTH
        with self._db.write() as session:
            # Count in the database, not read-then-write: two replicas failing on the same
            # system at once must both be counted. The upsert holds the row until commit.
            row = {"connector": connector, "failures": 1, "last_error": text, "updated_at": now}
            more = {"failures": table.c.failures + 1}
            copy = ("last_error", "updated_at")
            sql.upsert(session, table, [row], keys=["connector"], copy=copy, set_=more)
            failures = _failures(session, connector)
            until = policy.pause_until(failures, now, error)
            where = table.c.connector == connector
            session.execute(update(table).where(where).values(paused_until=until))
        return ConnectorHealth(connector, failures, until, text, now)

    def note_success(self, connectors: Sequence[str]) -> None:
        """These connectors just worked: forget their failures and any pause."""
        with self._db.write() as session:
            session.execute(
                update(CONNECTOR_HEALTH)
                .where(
                    CONNECTOR_HEALTH.c.connector.in_(list(connectors)),
                    CONNECTOR_HEALTH.c.failures > 0,
                )
                .values(failures=0, paused_until=None, updated_at=self._db.clock())
            )


def _failures(session: Session, connector: str) -> int:
    query = select(CONNECTOR_HEALTH.c.failures).where(CONNECTOR_HEALTH.c.connector == connector)
    return session.scalar(query) or 0


def _health(row: object) -> ConnectorHealth:
    m = row._mapping  # type: ignore[attr-defined]
    return ConnectorHealth(
        m["connector"], m["failures"], m["paused_until"], m["last_error"], m["updated_at"]
    )
