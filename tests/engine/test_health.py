"""A system that keeps failing is paused, not hammered, and resumes by itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import AuthError, RateLimited, RetryableError
from bridge.health import PausePolicy, failing_connector
from bridge.ledger import Ledger
from bridge.sync import CycleOptions, Route, run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route
from tests.ledger.ledger_factories import Clock

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = PausePolicy(
    after_failures=2, first_pause=timedelta(minutes=1), max_pause=timedelta(minutes=5)
)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def timed_ledger(tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}", clock=clock) as opened:
        yield opened


def route_with(ledger: Ledger, clock: Clock) -> Route:
    return dataclasses.replace(make_route(ledger), pause_policy=POLICY, clock=clock)


def test_failures_are_blamed_on_the_connector_that_raised_them(
    timed_ledger: Ledger, clock: Clock
) -> None:
    """Creates failing in a row count against the hub, not against the door."""
    route = route_with(timed_ledger, clock)
    for i in range(1, 11):
        door_of(route).put(door_record(i))
    # One failed create is that record's; ten in a row are the hub's (bridge.sync.act).
    hub_of(route).fail_next(10, RetryableError("hub: HTTP 503"), operations=("create",))

    report = run_cycle(route)

    assert report.error is not None
    health = {h.connector: h for h in timed_ledger.health.listed()}
    assert list(health) == ["hub"]
    assert health["hub"].failures == 1
    assert health["hub"].paused_until is None  # one failure is not a pattern yet
    assert health["hub"].last_error == "RetryableError: hub: HTTP 503"


def test_after_repeated_failures_the_connector_is_paused_and_not_called(
    timed_ledger: Ledger, clock: Clock
) -> None:
    """Two failed cycles pause the door; the next cycle sends nothing and says why."""
    route = route_with(timed_ledger, clock)
    door_of(route).put(door_record(1))
    door_of(route).fail_next(5, RetryableError("door: ReadTimeout"), operations=("pull",))
    run_cycle(route)
    run_cycle(route)

    report = run_cycle(route)

    assert report.paused is not None
    assert "door is paused until 2026-03-02T08:01:00+00:00" in report.paused
    assert "door: ReadTimeout" in report.paused
    assert len(door_of(route)._store.failures) == 3  # the paused cycle did not even try
    assert hub_of(route).records() == []


def test_a_paused_connector_resumes_by_itself_and_a_success_clears_it(
    timed_ledger: Ledger, clock: Clock
) -> None:
    """Once the pause is over one cycle tries again; it succeeds and the count is cleared."""
    route = route_with(timed_ledger, clock)
    door_of(route).put(door_record(1))
    door_of(route).fail_next(2, RetryableError("door: HTTP 502"), operations=("pull",))
    run_cycle(route)
    run_cycle(route)
    assert run_cycle(route).paused is not None

    clock.now += timedelta(minutes=1, seconds=1)
    report = run_cycle(route)

    assert report.ok and report.paused is None
    assert report.counts["create"] == 1
    assert [h.failures for h in timed_ledger.health.listed()] == [0]
    assert timed_ledger.health.listed()[0].paused_until is None


def test_each_failed_probe_doubles_the_pause_up_to_the_cap(
    timed_ledger: Ledger, clock: Clock
) -> None:
    """1, 2, 4, then 5 minutes (the cap): a broken system is asked less and less often."""
    route = route_with(timed_ledger, clock)
    door_of(route).fail_next(20, AuthError("door: HTTP 401, check password"), operations=("pull",))
    run_cycle(route)
    pauses = []
    for _ in range(4):
        run_cycle(route)
        (health,) = timed_ledger.health.listed()
        assert health.paused_until is not None
        pauses.append(health.paused_until - clock.now)
        clock.now = health.paused_until
    assert pauses == [timedelta(minutes=m) for m in (1, 2, 4, 5)]


def test_a_rate_limited_connector_waits_at_least_retry_after() -> None:
    """A 429 whose Retry-After is longer than the pause sets the pause."""
    error = RateLimited("hub: HTTP 429", retry_after=600)
    until = POLICY.pause_until(2, START, error)
    assert until == START + timedelta(minutes=10)
    assert POLICY.pause_until(1, START, error) is None


def test_a_dry_run_and_a_backfill_ignore_the_pause(timed_ledger: Ledger, clock: Clock) -> None:
    """A person at the keyboard wants to see the error, not a pause notice."""
    route = route_with(timed_ledger, clock)
    door_of(route).put(door_record(1))
    door_of(route).fail_next(2, RetryableError("door: HTTP 502"), operations=("pull",))
    run_cycle(route)
    run_cycle(route)
    assert run_cycle(route, dry_run=True).paused is None
    report = run_cycle(route, options=CycleOptions(respect_pause=False))
    assert report.paused is None and report.counts["create"] == 1


def test_an_error_outside_any_connector_is_blamed_on_none(
    timed_ledger: Ledger, clock: Clock
) -> None:
    """The engine's and the ledger's own failures pause no system."""
    route = route_with(timed_ledger, clock)
    with pytest.raises(RetryableError) as caught:
        raise RetryableError("ledger busy")
    assert failing_connector(caught.value, (route.source, route.target)) is None


def test_a_cycle_that_delivers_before_failing_is_not_a_failure_in_a_row(
    timed_ledger: Ledger, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flaky hub that fails every second create is never paused: every complaint gets there."""
    route = route_with(timed_ledger, clock)
    real_create = hub_of(route).create
    calls = {"n": 0}

    def every_second_create_fails(*args: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] % 2 == 0:
            raise RetryableError("hub: HTTP 503")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(hub_of(route), "create", every_second_create_fails)
    for i in range(1, 9):
        door_of(route).put(door_record(i))
    reports = [run_cycle(route) for _ in range(5)]

    # Each failed create is owed to the next cycle; the others of the page go on.
    assert [r.counts["create"] for r in reports] == [4, 2, 1, 1, 0]
    assert all(r.error is None for r in reports)
    assert len(hub_of(route).records()) == 8
    assert all(h.failures == 0 for h in timed_ledger.health.listed())
    assert all(r.paused is None for r in reports)
