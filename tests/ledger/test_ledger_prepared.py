"""A page's hot statements as the driver's own SQL: the same rows, fewer statements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite

from bridge.ledger import Ledger
from bridge.ledger.db import normalise_url
from bridge.ledger.prepared import Prepared, stored_time
from bridge.ledger.tables import COMPLAINT, CYCLE_RUN
from bridge.ledger.timestamps import UTCDateTime
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, intent, ref_of, result

AWARE = st.datetimes(
    min_value=datetime(1971, 1, 2),
    max_value=datetime(9998, 12, 30),
    timezones=st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@given(AWARE)
def test_stored_time_is_what_sqlalchemy_stores_on_sqlite(at: datetime) -> None:
    """Prepared statements store a timestamp as the very text SQLAlchemy's own type stores."""
    dialect = sqlite.dialect()
    stock = sqlite.DATETIME().bind_processor(dialect)
    assert stock is not None
    assert stored_time("sqlite", at) == stock(at.astimezone(UTC).replace(tzinfo=None))


@given(AWARE)
def test_stored_time_is_utc_type_binding_on_postgresql(at: datetime) -> None:
    """On PostgreSQL the value handed to the driver is the ledger type's, aware UTC."""
    expected = UTCDateTime().process_bind_param(at, postgresql.dialect())
    stored = stored_time("postgresql", at)
    assert stored == expected
    assert stored.tzinfo is UTC


def test_stored_time_refuses_a_naive_timestamp() -> None:
    """A naive time has no instant: refused as the ledger's type refuses it."""
    with pytest.raises(ValueError, match="aware"):
        stored_time("sqlite", datetime(2026, 3, 2, 1, 0))


def test_a_datetime_object_is_refused_where_sqlite_keeps_text(ledger: Ledger) -> None:
    """Handed a datetime instead of stored_time's text, a SQLite statement fails, stores nothing."""
    statement = Prepared(
        ("ref", "origin_system", "origin_id", "created_at"), lambda _d: COMPLAINT.insert()
    )
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    with ledger.db.write() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("PostgreSQL's driver takes aware datetimes")
        with pytest.raises(TypeError, match="stored_time"):
            statement.run(session, [("R-1", "door", "1", now)])
        statement.run(session, [("R-1", "door", "1", stored_time("sqlite", now))])


@pytest.fixture
def statements(ledger: Ledger) -> Iterator[list[str]]:
    """Every statement the ledger's engine runs from here on (executemany counts once)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(ledger.db.engine, "before_cursor_execute", note)
    yield seen
    event.remove(ledger.db.engine, "before_cursor_execute", note)


def test_a_page_of_intents_is_a_fixed_few_statements(ledger: Ledger, statements: list[str]) -> None:
    """Recording a page's intents costs the same statements for 3 complaints as for 50,
    and the statuses go with the complaints' insert (no UPDATE of complaint)."""
    ledger.creates.record_intents(ROUTE, [intent(n) for n in range(1, 4)])
    few = list(statements)
    statements.clear()
    page = [intent(n) for n in range(4, 54)]
    ledger.creates.record_intents(ROUTE, page, sending=[i.ref for i in page])

    assert len(few) <= 8  # BEGIN, 4 writes, 3 reads (ids, source links, attempts) + events
    assert not [s for s in statements if s.startswith("UPDATE complaint")]
    # the page's sent_at note is one more statement, whatever its size
    assert len(statements) == len(few) + 1


def test_intents_store_a_status_given_and_keep_one_not_given(ledger: Ledger) -> None:
    """An intent for a known complaint stores its status; a blank or missing one keeps it."""
    ledger.creates.record_intents(ROUTE, [intent(1, status="new")])
    ledger.creates.record_intents(ROUTE, [intent(1, status=None)])
    assert ledger.statuses.of([ref_of(1)])[ref_of(1)].status == "new"
    ledger.creates.record_intents(ROUTE, [intent(1, status="")])
    assert ledger.statuses.of([ref_of(1)])[ref_of(1)].status == "new"
    ledger.creates.record_intents(ROUTE, [intent(1, status="in_progress")])
    assert ledger.statuses.of([ref_of(1)])[ref_of(1)].status == "in_progress"


def test_a_page_stores_timestamps_as_the_ledger_type_does(ledger: Ledger, ledger_url: str) -> None:
    """Rows written by the page's prepared statements hold exactly what UTCDateTime writes:
    on SQLite the same UTC text (compared as text in SQL), on PostgreSQL the same instant."""
    now = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    ledger.db.clock = lambda: now
    ledger.creates.record_intents(ROUTE, [intent(1)], sending=[ref_of(1)])
    ledger.cycles.complete_page(ROUTE, [result(1)])

    engine = create_engine(normalise_url(ledger_url))
    with engine.connect() as conn:
        raw = {value for query in _TIMES for value in conn.execute(text(query)).scalars()}
    engine.dispose()
    if "sqlite" in ledger_url:
        assert raw == {"2026-03-02 00:30:15.123456"}
    else:
        assert raw == {now}


_TIMES = (
    "SELECT created_at FROM complaint",
    "SELECT created_at FROM pending_op UNION ALL SELECT updated_at FROM pending_op",
    "SELECT sent_at FROM pending_op",
    "SELECT seen_at FROM link UNION ALL SELECT updated_at FROM link",
    "SELECT next_poll_at FROM link",
    "SELECT next_poll_at FROM route_link",
    "SELECT at FROM event",
)


def test_links_read_through_prepared_selects_are_aware_utc(ledger: Ledger) -> None:
    """Links and pending creates read by the page's prepared SELECTs carry aware UTC times."""
    now = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    ledger.db.clock = lambda: now
    ledger.creates.record_intents(ROUTE, [intent(1), intent(2)], sending=[ref_of(1)])
    ledger.cycles.complete_page(ROUTE, [result(1)])

    link = ledger.links.by_remote(SOURCE, ["1"], route=ROUTE)["1"]
    assert (link.seen_at, link.updated_at, link.next_poll_at) == (now, now, now)
    assert link.seen_at is not None and link.seen_at.tzinfo is UTC
    pending = ledger.creates.pending(ROUTE, TARGET, [ref_of(1), ref_of(2)])
    assert list(pending) == [ref_of(2)]
    assert (pending[ref_of(2)].created_at, pending[ref_of(2)].sent_at) == (now, None)
    assert pending[ref_of(2)].created_at.tzinfo is UTC


def test_a_prepared_select_refuses_a_column_it_would_not_convert() -> None:
    """A column whose type converts what the driver reads (a boolean on SQLite) is refused."""
    flags = Prepared((), lambda _d: select(CYCLE_RUN.c.ok))
    with pytest.raises(ValueError, match="converted type"):
        flags.sql("sqlite")


def test_follow_ups_of_a_complaint_are_one_select(ledger: Ledger, statements: list[str]) -> None:
    """The engine reads each re-polled complaint's follow-ups by ref: one SELECT, not two."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    ledger.followups.note(ref_of(1), SOURCE, [("fp-1", "f1")])
    statements.clear()

    found = ledger.followups.of([ref_of(1), ref_of(2)])

    assert [f.fingerprint for f in found[ref_of(1)]] == ["fp-1"]
    assert found[ref_of(2)] == []
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
