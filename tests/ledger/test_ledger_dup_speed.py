"""The duplicate check's hot read: ``Database.select``, one round trip on PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import insert, select, text

from bridge.ledger import Ledger, LedgerUnavailable
from bridge.ledger.tables import COMPLAINT
from tests.ledger.ledger_factories import T0

PID = text("SELECT pg_backend_pid() AS pid")


def _postgres_only(ledger: Ledger) -> None:
    if ledger.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads one statement in a deferred transaction, as read() does")


def test_a_select_runs_outside_a_transaction_on_postgresql(ledger: Ledger) -> None:
    """PostgreSQL: no BEGIN before the SELECT (its transaction starts with it)."""
    _postgres_only(ledger)
    query = text(
        "SELECT xact_start = query_start AS alone FROM pg_stat_activity "
        "WHERE pid = pg_backend_pid()"
    )
    assert [row.alone for row in ledger.db.select(query, {})] == [True]


def test_a_select_on_a_connection_that_died_runs_again_on_a_new_one(ledger: Ledger) -> None:
    """Without the pool's ping, a connection the server dropped is replaced, not an error."""
    _postgres_only(ledger)
    first = ledger.db.select(PID, {})[0].pid
    dsn = ledger.db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    again = ledger.db.select(PID, {})[0].pid
    assert again != first


def test_a_select_reads_what_the_ledger_wrote(ledger: Ledger) -> None:
    """The rows of one SELECT, and a write after it still rolls back whole."""
    db = ledger.db
    row = {"ref": "r-1", "origin_system": "door", "origin_id": "1", "created_at": T0}
    with db.write() as session:
        session.execute(insert(COMPLAINT).values(row))
    assert [r.ref for r in db.select(select(COMPLAINT.c.ref), {})] == ["r-1"]

    def failing_write() -> None:
        with db.write() as session:
            session.execute(insert(COMPLAINT).values({**row, "ref": "r-2", "origin_id": "2"}))
            raise RuntimeError("the write fails after its insert")

    with pytest.raises(RuntimeError):
        failing_write()
    assert [r.ref for r in db.select(select(COMPLAINT.c.ref), {})] == ["r-1"]


def test_a_failing_select_is_a_ledger_error(ledger: Ledger) -> None:
    """A database failure inside ``select`` is LedgerUnavailable, as in ``read``."""
    with pytest.raises(LedgerUnavailable):
        ledger.db.select(text("SELECT no_such_column FROM complaint"), {})
