"""The duplicate check's fast path: its one read statement (``Database.statement``)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, text

from bridge.ledger import Ledger, LedgerUnavailable
from bridge.ledger.tables import COMPLAINT
from tests.ledger.ledger_factories import T0


def test_a_statement_reads_outside_a_transaction_on_postgresql(ledger: Ledger) -> None:
    """PostgreSQL: no BEGIN and COMMIT around the one statement (two round trips saved)."""
    if ledger.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads one statement in a deferred transaction, as read() does")
    with ledger.db.statement() as conn:
        assert conn.connection.driver_connection.autocommit  # type: ignore[union-attr]
        assert conn.execute(select(COMPLAINT.c.id)).all() == []


def test_the_pool_gives_transactions_back_after_a_statement(ledger: Ledger) -> None:
    """A write after a statement on the same pooled connection still rolls back whole."""
    db = ledger.db
    with db.statement() as conn:
        conn.execute(select(COMPLAINT.c.id)).all()
    row = {"ref": "r-1", "origin_system": "door", "origin_id": "1", "created_at": T0}

    def failing_write() -> None:
        with db.write() as session:
            session.execute(insert(COMPLAINT).values(row))
            raise RuntimeError("the write fails after its insert")

    with pytest.raises(RuntimeError):
        failing_write()
    with db.read() as session:
        assert session.execute(select(COMPLAINT.c.id)).all() == []


def test_a_failing_statement_is_a_ledger_error(ledger: Ledger) -> None:
    """A database failure inside ``statement`` is LedgerUnavailable, as in ``read``."""
    with pytest.raises(LedgerUnavailable), ledger.db.statement() as conn:
        conn.execute(text("SELECT no_such_column FROM complaint"))
