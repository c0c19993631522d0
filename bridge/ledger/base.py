"""What every ledger concept stands on: the engine, the clock, and one transaction per call.

Each concept of the ledger (``Links``, ``Creates``, ``Quarantine`` …) holds the one
``Database`` of its ``Ledger`` and runs every call in a transaction of it: ``read``
for queries, ``write`` for changes, ``route_write`` for the changes a route's cycle
makes, which are fenced by the route's lease when one is set (``bridge.ledger.leases``).
A write that spans concepts (a page's links, hashes and cursor) is still one
transaction: one ``route_write`` in which the concepts' session functions run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Executable, Row, create_engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bridge.ledger import db
from bridge.ledger.failures import LedgerConflict, LedgerUnavailable
from bridge.ledger.lease_rows import Fence, hold

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Database:
    """The engine, the clock, the transactions, and the lease fences of this process."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        # route → the lease the cycle running in this process writes under (Leases.fenced).
        self.fences: dict[str, Fence] = {}
        self._writer = sessionmaker(engine, expire_on_commit=False)
        # Reads start a deferred transaction on SQLite, so `bridge status` never
        # waits for the write lock (see db._sqlite_on_begin).
        reader = engine.execution_options(ledger_write=False)
        self._reader = sessionmaker(reader, expire_on_commit=False)
        self._selector = _selector(engine, reader)

    def close(self) -> None:
        self.engine.dispose()
        if self._selector.pool is not self.engine.pool:
            self._selector.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        with _translated(), self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _translated(), self._reader.begin() as session:
            yield session

    def select(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        """The rows of one SELECT, in one round trip on PostgreSQL (a hot path's read).

        No ORM session and no transaction around it (one statement sees one snapshot);
        a connection found dead is replaced and the SELECT run once more.
        """
        with _translated():
            try:
                return self._select(statement, params)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            return self._select(statement, params)

    def _select(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
        with self._selector.connect() as conn:
            return conn.execute(statement, params).all()

    @contextmanager
    def route_write(self, route: str, *, renew: bool = False) -> Iterator[Session]:
        """A write transaction of ``route``'s cycle: fenced when a fence is set for it.

        ``renew`` renews the lease for a whole TTL whatever is left (before a remote call).
        """
        fence = self.fences.get(route)
        with self.write() as session:
            if fence is not None:
                hold(session, fence.lease, fence.ttl, self.clock(), renew=renew)
            yield session


def _selector(engine: Engine, reader: Engine) -> Engine:
    """The engine ``select`` runs on: SQLite's reader; on PostgreSQL a pool of its own.

    Its own because the ledger's pool pings every connection it hands out, a round trip
    as long as the SELECT's own on a busy machine; ``select`` replaces a dead connection
    instead. In autocommit: no BEGIN and COMMIT round trips either.
    """
    if engine.dialect.name != "postgresql":
        return reader
    return create_engine(
        engine.url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10}
    )


@contextmanager
def _translated() -> Iterator[None]:
    """Database failures as bridge errors, by what the engine should do about them.

    Only the driver's first line is kept: SQLAlchemy's own message carries the
    statement's parameters, which must never reach a log.
    """
    try:
        yield
    except IntegrityError as exc:
        raise LedgerConflict(f"the ledger refused a write: {db.reason(exc)}") from None
    except DBAPIError as exc:
        raise LedgerUnavailable(f"the ledger database failed: {db.reason(exc)}") from None
