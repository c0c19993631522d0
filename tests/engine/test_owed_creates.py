"""A create that fails for one record never stops the page: owed, looked up, then set aside."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.errors import RateLimited, RetryableError
from bridge.ledger import Ledger
from bridge.sync import run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route


def _door(route_count: int, ledger: Ledger, **route_changes: object):  # type: ignore[no-untyped-def]
    route = replace(make_route(ledger, page_size=50), **route_changes)
    for i in range(1, route_count + 1):
        door_of(route).put(door_record(i))
    return route


def _one_failing_create(route, failing_title: str, error: Exception) -> None:  # type: ignore[no-untyped-def]
    real = route.target.create

    def create(record, attachments, ref):  # type: ignore[no-untyped-def]
        if failing_title in str(record.get("title", "")):
            raise error
        return real(record, attachments, ref)

    route.target.create = create


def test_a_create_answered_with_a_5xx_is_owed_and_the_page_goes_on(ledger: Ledger) -> None:
    """One complaint's create fails with a 5xx: the 19 others are delivered in the same cycle."""
    route = _door(20, ledger)
    _one_failing_create(route, "Banjar 7", RetryableError("HTTP 503 from hub"))
    report = run_cycle(route)
    assert report.ok
    assert report.counts["create"] == 19 and report.counts["unconfirmed"] == 1
    assert len(hub_of(route).records()) == 19
    assert ledger.creates.pending("door-to-hub", "hub")  # still owed, not forgotten


def test_an_owed_create_is_looked_up_before_it_is_sent_again(ledger: Ledger) -> None:
    """The answer was lost after the hub stored it: the next cycle links it, creates nothing."""
    route = _door(5, ledger)
    hub_of(route).drop_response_after_create = True
    first = run_cycle(route)
    # Every answer lost: each record owed, none doubled, the cycle itself went on.
    assert first.counts["unconfirmed"] == 5 and hub_of(route).creates == 5
    hub_of(route).drop_response_after_create = False
    second = run_cycle(route)
    assert second.counts["link"] == 5 and second.counts["create"] == 0
    assert hub_of(route).creates == 5
    assert ledger.creates.pending("door-to-hub", "hub") == {}


def test_a_create_that_keeps_failing_is_set_aside_after_its_tries(ledger: Ledger) -> None:
    """A hub that answers 500 to one complaint every time: set aside after 3 cycles, not forever."""
    route = _door(4, ledger, max_create_attempts=3)
    _one_failing_create(route, "Banjar 2", RetryableError("HTTP 500 from hub"))
    counts = [run_cycle(route).counts for _ in range(3)]
    assert [c["unconfirmed"] for c in counts] == [1, 1, 0]
    assert counts[2]["set_aside"] == 1
    (held,) = ledger.quarantine.listed("door-to-hub")
    assert held.source_id == "2" and "did not confirm" in held.reason and "3 tries" in held.reason
    # Set aside and unchanged: the next cycle neither sends it again nor owes it.
    fourth = run_cycle(route)
    assert fourth.counts["unconfirmed"] == 0 and fourth.counts["create"] == 0
    assert len(hub_of(route).records()) == 3


def test_an_unconfirmed_create_is_not_looked_up_before_it_settles(tmp_path: Path) -> None:
    """A search right after a lost answer is no proof: the look-up waits for the settle delay."""
    now = [datetime(2026, 3, 2, 8, 0, tzinfo=UTC)]
    # The ledger stamps the failed attempt with the route's clock.
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}", clock=lambda: now[0])
    route = _door(1, ledger, settle=timedelta(seconds=30), clock=lambda: now[0])
    searches: list[str] = []
    real_find = route.target.find_by_ref
    route.target.find_by_ref = lambda ref: searches.append(ref) or real_find(ref)  # type: ignore[method-assign, func-returns-value]
    hub_of(route).drop_response_after_create = True
    run_cycle(route)  # the route's first pass looks the new record up, then sends it
    hub_of(route).drop_response_after_create = False
    searches.clear()
    waiting = run_cycle(route)
    assert waiting.counts["waiting"] == 1 and searches == []
    now[0] += timedelta(seconds=31)
    settled = run_cycle(route)
    assert settled.counts["link"] == 1 and len(searches) == 1
    assert hub_of(route).creates == 1
    ledger.close()


def test_a_failing_target_stops_the_cycle_after_many_owed_creates_in_a_row(
    ledger: Ledger,
) -> None:
    """Every create fails: the target, not a record, is failing; the cycle stops early."""
    route = _door(30, ledger)
    hub_of(route).fail_next(30, RetryableError("HTTP 503 from hub"), operations=("create",))
    report = run_cycle(route)
    assert not report.ok and "503" in (report.error or "")
    assert report.counts["unconfirmed"] == 10  # the tenth in a row stops the cycle
    assert hub_of(route).records() == []


def test_a_429_on_a_create_still_slows_the_whole_route(ledger: Ledger) -> None:
    """HTTP 429 is the system asking the route to slow down, not one record's failure."""
    route = _door(5, ledger)
    hub_of(route).fail_next(1, RateLimited("HTTP 429", retry_after=30), operations=("create",))
    report = run_cycle(route)
    assert not report.ok and report.counts["unconfirmed"] == 0


def test_an_owed_record_holds_the_cursor(ledger: Ledger, cursor_mapping: Path) -> None:
    """The cursor never passes a record whose create is owed; it moves once that one lands."""
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    for i in range(1, 4):
        door_of(route).put(door_record(i, updated_at=f"2026-03-01T10:00:0{i}+08:00"))
    _one_failing_create(route, "Banjar 3", RetryableError("HTTP 502 from hub"))
    run_cycle(route)
    assert ledger.cycles.cursor("door-to-hub", "door") is None
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    healed = run_cycle(route)
    assert healed.counts["create"] == 1
    assert ledger.cycles.cursor("door-to-hub", "door") is not None
