"""A create slower than what was left of the lease: no other replica steps in and doubles it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bridge.connector import NativeRecord
from bridge.cycle import CycleOptions, CycleReport
from bridge.engine import Route
from bridge.ledger import Ledger
from bridge.model import Attachment
from bridge.scheduler import RouteLeases
from connectors.memory import MemoryConnector, MemorySettings
from tests.engine.conftest import door_of, door_record, hub_of, make_route
from tests.ledger.ledger_factories import Clock

TTL = timedelta(seconds=60)


class SlowHub(MemoryConnector):
    """The memory LAPOR!, whose create first runs ``meanwhile`` (what happens while it is slow)."""

    meanwhile: Callable[[], None] = staticmethod(lambda: None)

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        self.meanwhile()
        return super().create(record, attachments, ref)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))


@pytest.fixture
def two_replicas(tmp_path: Path, clock: Clock) -> Iterator[tuple[Route, Route]]:
    """Replica A's and B's route: one ledger file, one clock, the same door and hub stores."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url, clock=clock) as a, Ledger.open(url, clock=clock) as b:
        # make_route's connectors name their shared stores "door" and "hub".
        hub = SlowHub("hub", MemorySettings(type="memory", store="hub", feed="scan"))
        yield dataclasses.replace(make_route(a), target=hub), make_route(b)


def race(
    routes: tuple[Route, Route], clock: Clock, create_takes: timedelta, waited: timedelta
) -> tuple[CycleReport | None, CycleReport | None]:
    """A's cycle of one complaint, and B's cycle run while A's create is in flight.

    A first waits ``waited`` on a rate limit (no fence check renews the lease during
    it), then its create takes ``create_takes`` by the shared clock.
    """
    route_a, route_b = routes
    door_of(route_b).put(door_record(1))
    a, b = RouteLeases("replica-a", TTL), RouteLeases("replica-b", TTL)
    b_reports: list[CycleReport | None] = []

    def meanwhile() -> None:
        clock.advance(create_takes)
        b_reports.append(b.run(route_b))

    assert isinstance(route_a.target, SlowHub)
    route_a.target.meanwhile = meanwhile
    report = a.run(route_a, CycleOptions(before_create=lambda: clock.advance(waited)))
    [b_report] = b_reports
    return report, b_report


def test_a_create_slower_than_the_rest_of_the_lease_is_not_doubled_by_another_replica(
    two_replicas: tuple[Route, Route], clock: Clock
) -> None:
    """A waits 15 s on a rate limit, then its create takes 59 s: B's cycle meanwhile is skipped."""
    report, b_report = race(two_replicas, clock, TTL - timedelta(seconds=1), timedelta(seconds=15))

    assert b_report is None  # B found the route held: it neither resumed nor created
    assert report is not None and report.ok, report
    hub = hub_of(two_replicas[1])
    assert hub.creates == 1
    assert len(hub.records()) == 1


def test_a_create_that_outlives_the_lease_is_reported_naming_the_reference(
    two_replicas: tuple[Route, Route], clock: Clock
) -> None:
    """The window left: a create longer than a whole TTL loses the route, and A says so."""
    with capture_logs() as logs:
        report, b_report = race(two_replicas, clock, TTL, timedelta(0))

    assert report is not None and report.error is not None and "LeaseLost" in report.error
    [warning] = [e for e in logs if e["event"] == "complaint.create.outlived_lease"]
    assert b_report is not None and b_report.ok  # B found nothing by reference yet: it created
    [line] = b_report.lines
    assert warning["ref"] == line.ref
    assert warning["target_id"] != line.target_id  # A's copy: the second one
    assert hub_of(two_replicas[1]).creates == 2
