"""Creates across a takeover: a slow create keeps its route; a gone holder's is waited for."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bridge.connector import NativeRecord
from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.daemon import RouteLeases
from bridge.ledger import Ledger
from bridge.model import Attachment
from bridge.replica import ReplicaIdentity
from bridge.sync import CycleOptions, CycleReport, Route
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


def gone_identity() -> ReplicaIdentity:
    """The identity of a process of this machine that has exited."""
    me = ReplicaIdentity.of_this_process()
    if me is None:
        pytest.skip("this machine's /proc or machine id cannot be read")
    with subprocess.Popen([sys.executable, "-c", "pass"]) as exited:
        exited.wait()
    return dataclasses.replace(me, pid=exited.pid, start_time=1)


def race(
    routes: tuple[Route, Route],
    clock: Clock,
    create_takes: timedelta,
    waited: timedelta = timedelta(0),
    a: RouteLeases | None = None,
) -> tuple[CycleReport | None, CycleReport | None]:
    """A's cycle of one complaint, and B's cycle run while A's create is in flight.

    A first waits ``waited`` on a rate limit (no fence check renews the lease during
    it), then its create takes ``create_takes`` by the shared clock. Both replicas are
    this process under two names, unless ``a`` says otherwise.
    """
    route_a, route_b = routes
    door_of(route_b).put(door_record(1))
    a = a or RouteLeases("replica-a", TTL)
    b = RouteLeases("replica-b", TTL)
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
        report, b_report = race(two_replicas, clock, TTL)

    assert report is not None and report.error is not None and "LeaseLost" in report.error
    [warning] = [e for e in logs if e["event"] == "complaint.create.outlived_lease"]
    assert b_report is not None and b_report.ok  # B found nothing by reference yet: it created
    [line] = b_report.lines
    assert warning["ref"] == line.ref
    assert warning["target_id"] != line.target_id  # A's copy: the second one
    assert hub_of(two_replicas[1]).creates == 2


def test_a_gone_holders_unconfirmed_create_is_not_sent_again_before_its_lease_would_end(
    two_replicas: tuple[Route, Route], clock: Clock
) -> None:
    """B takes a dead A's route at once, but adopts A's late create instead of sending its own."""
    # A, as B sees it: a process of this machine that is gone while its create is on its way.
    a = RouteLeases("replica-a", TTL, identity=gone_identity())

    report, b_report = race(two_replicas, clock, timedelta(seconds=1), a=a)

    assert b_report is not None  # taken over at once, 59 s before A's lease would end
    assert b_report.error is not None and "may still be on its way" in b_report.error
    assert report is not None and report.error is not None and "LeaseLost" in report.error
    hub = hub_of(two_replicas[1])
    assert hub.creates == 1  # A's create, stored after B's lookup: B did not send another

    clock.advance(TTL)
    after = RouteLeases("replica-b", TTL).run(two_replicas[1])

    assert after is not None and after.ok, after
    assert [line.action for line in after.lines] == ["link"]  # A's copy adopted
    assert hub.creates == 1


def test_a_gone_holders_create_that_was_never_sent_is_sent_at_once(
    two_replicas: tuple[Route, Route], clock: Clock
) -> None:
    """A died after recording its intent but before sending: B need not wait to send it."""
    route_a, route_b = two_replicas
    door_of(route_b).put(door_record(1))
    a = RouteLeases("replica-a", TTL, identity=gone_identity())

    class Killed(BaseException):
        """Stands for SIGKILL: nothing after it runs, not even except-blocks for Exception."""

    def dies() -> None:
        raise Killed

    with pytest.raises(Killed):
        a.run(route_a, CycleOptions(before_create=dies))
    assert route_b.ledger.creates.pending(route_b.name, "hub") != {}

    report = RouteLeases("replica-b", TTL).run(route_b)

    assert report is not None and report.ok, report
    assert [line.action for line in report.lines] == ["create"]
    assert hub_of(route_b).creates == 1


def test_a_gone_holders_page_noted_together_resumes_at_once_all_but_the_create_it_started(
    two_replicas: tuple[Route, Route], clock: Clock
) -> None:
    """A page's creates are noted as sending in one commit; the sending log tells B which left.

    A sends the first of three, then dies as the second is about to leave (its page's
    commit keeps the first's link): B sends the second and third at once, though both
    were noted as sending, because neither started.
    """
    route_a, route_b = two_replicas
    for i in (1, 2, 3):
        door_of(route_b).put(door_record(i))
    a = RouteLeases("replica-a", TTL, identity=gone_identity())
    starts: list[None] = []

    class Killed(BaseException):
        """Stands for SIGKILL: nothing after it runs, not even except-blocks for Exception."""

    def second_dies() -> None:
        starts.append(None)
        if len(starts) == 2:
            raise Killed

    with pytest.raises(Killed):
        a.run(route_a, CycleOptions(before_create=second_dies))
    pending = route_b.ledger.creates.pending(route_b.name, "hub")
    assert len(pending) == 2 and all(p.sent_at is not None for p in pending.values())
    assert hub_of(route_b).creates == 1

    report = RouteLeases("replica-b", TTL).run(route_b)

    assert report is not None and report.ok, report
    assert [line.action for line in report.lines] == ["skip", "create", "create"]
    assert hub_of(route_b).creates == 3
    assert len({r["tags_raw"] for r in hub_of(route_b).records()}) == 3
