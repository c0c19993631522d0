"""The re-poll schedule: first polls after a create, due links in order, stopping finals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from bridge.ledger import Ledger
from bridge.ledger.polls import due_query
from tests.ledger.ledger_factories import (
    ROUTE,
    SOURCE,
    T0,
    TARGET,
    Clock,
    intent,
    linked,
    ref_of,
    result,
)

MINUTE = timedelta(minutes=1)


@pytest.fixture
def timed(ledger_url: str, clock: Clock) -> Iterator[Ledger]:
    """A ledger on a fresh database whose clock the test moves."""
    with Ledger.open(ledger_url, clock=clock) as opened:
        yield opened


def _due(
    ledger: Ledger,
    system: str = SOURCE,
    *,
    now: datetime = T0 + timedelta(days=365),
    limit: int = 100,
    require_link_in: str | None = None,
) -> list[str]:
    found = ledger.polls.due(system, now=now, limit=limit, require_link_in=require_link_in)
    return [link.remote_id for link in found]


def test_a_new_link_is_due_at_once_on_both_sides(timed: Ledger) -> None:
    """cycles.complete_page schedules the source and the new target link for a poll now."""
    linked(timed, 1)

    (source,) = timed.polls.due(SOURCE, now=T0, limit=10)
    (target,) = timed.polls.due(TARGET, now=T0, limit=10)
    assert (source.remote_id, source.next_poll_at, source.polled_at) == ("1", T0, None)
    assert (target.remote_id, target.next_poll_at) == ("1000001", T0)
    assert source.complaint_created_at == T0
    assert timed.polls.due(SOURCE, now=T0 - MINUTE, limit=10) == []


def test_due_for_poll_gives_the_longest_overdue_first_up_to_the_limit(
    timed: Ledger, clock: Clock
) -> None:
    """Due links come oldest next_poll_at first; not-yet-due ones and the rest wait."""
    linked(timed, 1, 2, 3, 4)
    timed.polls.schedule(
        SOURCE,
        [
            ("1", T0 + 3 * MINUTE),
            ("2", T0 + MINUTE),
            ("3", T0 + 2 * MINUTE),
            ("4", T0 + 9 * MINUTE),
        ],
    )

    assert _due(timed, now=T0 + 5 * MINUTE) == ["2", "3", "1"]
    assert _due(timed, now=T0 + 5 * MINUTE, limit=2) == ["2", "3"]
    assert _due(timed, now=T0) == []


def test_schedule_polls_with_none_stops_polling_and_notes_the_poll(
    timed: Ledger, clock: Clock
) -> None:
    """None takes a link off the schedule; every scheduled link records when it was polled."""
    linked(timed, 1, 2)
    polled = clock.advance(MINUTE)
    timed.polls.schedule(SOURCE, [("1", None), ("2", polled + MINUTE), ("unknown", polled)])

    assert _due(timed) == ["2"]
    first = timed.links.of(ref_of(1), SOURCE)
    assert first is not None
    assert (first.next_poll_at, first.polled_at) == (None, polled)
    assert _due(timed, TARGET) == ["1000001", "1000002"]  # other systems are untouched


def test_require_link_in_keeps_only_complaints_linked_there(timed: Ledger) -> None:
    """Complaints not (yet) linked in the other system are not due for this route."""
    linked(timed, 1)
    timed.creates.record_intents(ROUTE, [intent(2)])
    timed.cycles.complete_page(ROUTE, [result(2)])
    timed.creates.record_intents(ROUTE, [intent(3)])  # a source link, no LAPOR! link yet
    timed.polls.schedule(SOURCE, [("3", T0)])

    assert _due(timed) == ["1", "2", "3"]
    assert _due(timed, require_link_in=TARGET) == ["1", "2"]
    assert _due(timed, require_link_in="home") == []


def test_an_existing_schedule_survives_a_repeated_completion(timed: Ledger, clock: Clock) -> None:
    """Completing a create again (a retry) does not pull a scheduled link forward."""
    linked(timed, 1)
    later = T0 + timedelta(days=1)
    timed.polls.schedule(SOURCE, [("1", later)])
    clock.advance(MINUTE)
    timed.cycles.complete_page(ROUTE, [result(1)])

    link = timed.links.of(ref_of(1), SOURCE)
    assert link is not None
    assert link.next_poll_at == later


def test_due_for_poll_is_an_index_range_scan_on_sqlite(timed: Ledger, ledger_url: str) -> None:
    """The due query walks ix_link_system_next_poll in order: no table scan, no sort."""
    if not ledger_url.startswith("sqlite"):
        pytest.skip("the query plan is checked on SQLite; PostgreSQL plans by its statistics")
    linked(timed, *range(50))
    query = due_query(SOURCE, T0, 10, TARGET)
    with timed.db.engine.connect() as conn:  # the plan is a property of the ledger's own engine
        compiled = query.compile(dialect=conn.dialect)
        params = tuple(compiled.construct_params()[name] for name in compiled.positiontup or ())
        sql = f"EXPLAIN QUERY PLAN {compiled}"
        steps = [row[3] for row in conn.exec_driver_sql(sql, params)]
    assert any("USING INDEX ix_link_system_next_poll" in step for step in steps)
    assert not any("TEMP B-TREE" in step or step.startswith("SCAN") for step in steps)
