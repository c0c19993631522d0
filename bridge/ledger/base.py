"""What every ledger call stands on: the engine, the clock, and one transaction per call.

``Ledger`` (``bridge.ledger.core``) and its two-way part (``bridge.ledger.twoway``)
both build on ``LedgerBase``, so neither module has to hold the other's methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bridge.ledger import db
from bridge.ledger.failures import LedgerConflict, LedgerUnavailable

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerBase:
    """Connection, clock and the read/write transactions every ledger call runs in."""

    def __init__(self, engine: Engine, url_for_display: str, clock: Clock = utc_now) -> None:
        self.url_for_display = url_for_display
        self._engine = engine
        self._clock = clock
        self._writer = sessionmaker(engine, expire_on_commit=False)
        # Reads start a deferred transaction on SQLite, so `bridge status` never
        # waits for the write lock (see db._sqlite_on_begin).
        reader = engine.execution_options(ledger_write=False)
        self._reader = sessionmaker(reader, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, create: bool = True, clock: Clock = utc_now) -> Self:
        """Connect and migrate to head; a ConfigError says how to fix a bad URL or server.

        ``create=False`` is for commands that must not change the ledger: nothing is
        created or migrated, and a missing or outdated ledger is a ConfigError
        (``LedgerMissing``, ``LedgerOutdated``) that says which command creates it.
        """
        engine, parsed = db.connect(url, create=create)
        return cls(engine, db.display(parsed), clock)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.url_for_display!r})"

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with _translated(), self._writer.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with _translated(), self._reader.begin() as session:
            yield session


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
