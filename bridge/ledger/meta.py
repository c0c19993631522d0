"""What the ledger knows of itself: ``ledger_meta``, one text value per key.

Two keys are the ledger's identity (``Ledger.identity``), seeded by the migration that
made the table: ``ledger_id`` (a random uuid4: which ledger this is) and ``generation``
(how many cycles were started in it, counted in the same transaction as each start, so
it only grows, whichever replica starts the cycle). ``bridge.daemon.ledger_guard`` compares
them with what the bridge last saw, to notice a ledger lost, replaced or restored from
a backup.

Keys ``adopted:<route>`` belong to the sync: present once the route finished a full
pass over its source in this ledger. ``Meta.require_adoption`` clears them, so the
next pass looks every unknown record up by the bridge's reference before creating it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Integer, Text, cast, delete, select, update
from sqlalchemy.orm import Session

from bridge.ledger import sql
from bridge.ledger.base import Database
from bridge.ledger.tables import LEDGER_META

LEDGER_ID = "ledger_id"
GENERATION = "generation"
ADOPTED_PREFIX = "adopted:"


@dataclass(frozen=True)
class LedgerIdentity:
    """Which ledger this is, and how many cycles were started in it."""

    ledger_id: str
    generation: int


# Called with the ledger's identity right after a cycle start is committed.
CycleWatcher = Callable[[LedgerIdentity], None]


def get(session: Session, key: str) -> str | None:
    value: str | None = session.execute(
        select(LEDGER_META.c.value).where(LEDGER_META.c.key == key)
    ).scalar_one_or_none()
    return value


def put(session: Session, key: str, value: str) -> None:
    sql.upsert(session, LEDGER_META, [{"key": key, "value": value}], keys=["key"], copy=["value"])


def delete_prefix(session: Session, prefix: str) -> int:
    """Delete every key starting with ``prefix`` (taken literally: ``%`` and ``_`` too)."""
    gone = session.execute(
        delete(LEDGER_META).where(LEDGER_META.c.key.startswith(prefix, autoescape=True))
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def identity(session: Session) -> LedgerIdentity:
    return LedgerIdentity(get(session, LEDGER_ID) or "", int(get(session, GENERATION) or 0))


def next_generation(session: Session) -> LedgerIdentity:
    """Count one more cycle start; the row lock keeps concurrent replicas in order."""
    value = cast(cast(LEDGER_META.c.value, Integer) + 1, Text)
    bumped = session.execute(
        update(LEDGER_META)
        .where(LEDGER_META.c.key == GENERATION)
        .values(value=value)
        .returning(LEDGER_META.c.value)
    ).scalar_one_or_none()
    if bumped is None:  # only a ledger whose row was deleted by hand
        put(session, GENERATION, "1")
    return identity(session)


class Meta:
    """Reading and writing ``ledger_meta``: ``ledger.meta``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        with self._db.read() as session:
            return get(session, key)

    def set(self, key: str, value: str) -> None:
        with self._db.write() as session:
            put(session, key, value)

    def delete_prefix(self, prefix: str) -> int:
        """Forget every key that starts with ``prefix``; how many there were."""
        with self._db.write() as session:
            return delete_prefix(session, prefix)

    def require_adoption(self) -> int:
        """Make every route's next pass look records up by reference before creating.

        The contract with the sync: ``adopted:<route>`` present means that route has
        finished one full pass over its source in this ledger. Returns how many
        routes had.
        """
        return self.delete_prefix(ADOPTED_PREFIX)
