"""Cursors, quarantine, cycle runs, route status, time zones and concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from bridge.ledger import Ledger, LedgerConflict, SeenUpdate, SetAside
from bridge.ledger.timestamps import UTCDateTime
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, intent, ref_of, result

WITA = timezone(timedelta(hours=8), "WITA")


def test_cursor_set_and_get_per_route_and_system(ledger: Ledger) -> None:
    """A cursor is kept per (route, system) and overwritten, never duplicated."""
    assert ledger.cycles.cursor(ROUTE, SOURCE) is None
    ledger.cycles.set_cursor(ROUTE, SOURCE, "2026-01-01T00:00:00Z|10")
    ledger.cycles.set_cursor(ROUTE, SOURCE, "2026-01-02T00:00:00Z|11")
    ledger.cycles.set_cursor("other", SOURCE, "x")

    assert ledger.cycles.cursor(ROUTE, SOURCE) == "2026-01-02T00:00:00Z|11"
    assert ledger.cycles.cursor("other", SOURCE) == "x"
    assert ledger.cycles.cursor(ROUTE, TARGET) is None


def test_quarantine_upsert_counts_attempts_and_release_removes(ledger: Ledger) -> None:
    """Setting a record aside again counts an attempt; releasing it takes it out."""
    ledger.quarantine.add(ROUTE, SOURCE, "17", "title is empty", "title", '{"topik": ""}')
    ledger.quarantine.add(ROUTE, SOURCE, "17", "title is still empty", "title", '{"topik": " "}')
    ledger.quarantine.add("other", SOURCE, "18", "bad date", None, "{}")

    (item,) = ledger.quarantine.listed(ROUTE)
    assert (item.source_id, item.attempts, item.reason) == ("17", 2, "title is still empty")
    assert item.record_json == '{"topik": " "}'
    assert item.first_seen <= item.last_seen
    assert len(ledger.quarantine.listed()) == 2
    assert ledger.quarantine.ids(ROUTE, SOURCE) == {"17"}

    ledger.quarantine.release(ROUTE, SOURCE, "17")
    assert ledger.quarantine.ids(ROUTE, SOURCE) == set()
    assert ledger.quarantine.ids("other", SOURCE) == {"18"}


def test_complete_page_writes_everything_of_a_page(ledger: Ledger) -> None:
    """One page's links, observations, quarantine, releases and cursor land together."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    ledger.quarantine.add(ROUTE, SOURCE, "3", "old reason", None, "{}")
    ledger.cycles.complete_page(
        ROUTE,
        [result(1)],
        cursor=(ROUTE, SOURCE, "page-1"),
        seen={SOURCE: [SeenUpdate("1", "new-hash")]},
        set_aside=[SetAside(SOURCE, "2", "no category", "kategori_id", "{}")],
        released=[(SOURCE, "3")],
    )

    assert ledger.cycles.cursor(ROUTE, SOURCE) == "page-1"
    assert ledger.links.of(ref_of(1), TARGET) is not None
    source = ledger.links.of(ref_of(1), SOURCE)
    assert source is not None
    assert source.last_seen_hash == "new-hash"
    assert ledger.quarantine.ids(ROUTE, SOURCE) == {"2"}


def test_complete_page_is_all_or_nothing(ledger: Ledger) -> None:
    """When one part of a page fails, the cursor does not move past it and nothing is kept."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    with pytest.raises(LedgerConflict):
        ledger.cycles.complete_page(ROUTE, [result(1), result(2)], cursor=(ROUTE, SOURCE, "page-1"))

    assert ledger.cycles.cursor(ROUTE, SOURCE) is None
    assert ledger.links.of(ref_of(1), TARGET) is None
    assert set(ledger.creates.pending(ROUTE, TARGET)) == {ref_of(1)}


def test_finished_cycles_show_in_route_status(ledger: Ledger) -> None:
    """cycles.status reports the last cycle, the last success and the route's totals."""
    assert ledger.cycles.status(ROUTE).last_cycle is None
    first = ledger.cycles.start(ROUTE)
    ledger.cycles.finish(first, ok=True, counts={"created": 2}, error=None)
    second = ledger.cycles.start(ROUTE)
    ledger.cycles.finish(second, ok=False, counts={"created": 0}, error="LAPOR! unreachable")
    ledger.creates.record_intents(ROUTE, [intent(1), intent(2)])
    ledger.cycles.complete_page(ROUTE, [result(1)], cursor=(ROUTE, SOURCE, "c"))
    ledger.quarantine.add(ROUTE, SOURCE, "9", "bad", None, "{}")

    status = ledger.cycles.status(ROUTE)
    assert status.last_cycle is not None
    assert (status.last_cycle.run_id, status.last_cycle.ok) == (second, False)
    assert status.last_cycle.error == "LAPOR! unreachable"
    assert status.last_cycle.counts == {"created": 0}
    assert status.last_success_at is not None
    assert status.last_success_at <= status.last_cycle.started_at
    assert (status.linked, status.pending_creates, status.quarantined) == (1, 1, 1)
    assert status.cursors == {SOURCE: "c"}
    assert ledger.cycles.routes() == [ROUTE]


def test_times_come_back_aware_utc(ledger_url: str) -> None:
    """Times written from any zone come back as the same instant in aware UTC."""
    instant = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=WITA)
    with Ledger.open(ledger_url, clock=lambda: instant) as ledger:
        ledger.creates.record_intents(ROUTE, [intent(1)])
        ledger.creates.complete(ROUTE, [result(1)])
        run = ledger.cycles.start(ROUTE)
        ledger.cycles.finish(run, ok=True, counts={}, error=None)
        ledger.quarantine.add(ROUTE, SOURCE, "2", "bad", None, "{}")
        (trace,) = ledger.history.find(ref_of(1))
        status = ledger.cycles.status(ROUTE)
        assert status.last_cycle is not None
        times = [trace.created_at, *(e.at for e in trace.events)]
        times += [link.updated_at for link in trace.links]
        times += [status.last_cycle.started_at, ledger.quarantine.listed()[0].first_seen]
    for value in times:
        assert value.tzinfo is UTC
        assert value == instant
    assert times[0].hour == 1


def test_concurrent_writers_do_not_lose_or_double(ledger_url: str) -> None:
    """Two ledgers on one database writing at once both succeed, each row once."""
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            with Ledger.open(ledger_url) as mine:
                for start in range(offset, offset + 200, 20):
                    page = range(start, start + 20)
                    mine.creates.record_intents(ROUTE, [intent(n) for n in page])
                    mine.cycles.complete_page(ROUTE, [result(n) for n in page])
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in (0, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with Ledger.open(ledger_url) as ledger:
        assert ledger.links.count(TARGET) == 400
        assert ledger.cycles.status(ROUTE).linked == 400


def test_lag_text_says_how_long_ago_the_last_success_was(ledger_url: str) -> None:
    """The status lag is "never" before a successful cycle, then the time since it finished."""
    finished = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    with Ledger.open(ledger_url, clock=lambda: finished) as ledger:
        assert ledger.cycles.status(ROUTE).lag_text() == "never"
        ledger.cycles.finish(ledger.cycles.start(ROUTE), ok=True, counts={}, error=None)
        status = ledger.cycles.status(ROUTE)
    assert status.lag_text(finished + timedelta(seconds=40)) == "40s"
    assert status.lag_text(finished + timedelta(hours=3, minutes=5)) == "3h 5m"
    assert status.lag_text(finished + timedelta(days=2, hours=4)) == "2d 4h"


def test_sqlite_times_are_stored_in_sqlalchemys_own_text_format() -> None:
    """The ledger's fast SQLite conversion writes exactly what SQLAlchemy's DateTime writes.

    SQLite compares times as text, so rows written by a migration (plain DateTime) and
    by the ledger must share one format, and read back as the same aware instant.
    """
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DateTime().dialect_impl(dialect).bind_processor(dialect)
    back = UTCDateTime().result_processor(dialect, None)
    assert ours is not None and theirs is not None and back is not None
    for instant in (datetime(2026, 3, 2, 9, 30, tzinfo=WITA), datetime(2026, 1, 1, tzinfo=UTC)):
        text = ours(instant)
        assert text == theirs(instant.astimezone(UTC).replace(tzinfo=None))
        parsed = back(text)
        assert parsed == instant
        assert parsed is not None and parsed.tzinfo is UTC
