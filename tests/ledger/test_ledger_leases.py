"""Route leases: claim, renew, release, expiry, takeover, and the fence on a cycle's writes."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from bridge.ledger import Lease, LeaseLost, Ledger
from tests.ledger.ledger_factories import (
    ROUTE,
    SOURCE,
    T0,
    TARGET,
    TTL,
    Clock,
    RowCounts,
    claimed,
    intent,
    linked,
    ref_of,
    result,
)

# claiming, renewing, releasing


def test_a_free_route_is_claimed_under_run_number_one(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """The first claim takes the route for the TTL and starts run 1."""
    a, _ = replicas
    lease = claimed(a, "a")

    assert lease == Lease(ROUTE, "a", 1, T0 + TTL)
    info = a.leases.of(ROUTE)
    assert info is not None
    assert (info.holder, info.run_number, info.expires_at, info.renewed_at) == (
        "a",
        1,
        T0 + TTL,
        T0,
    )
    assert not info.is_free(clock())


def test_a_live_lease_held_by_another_is_refused(replicas: tuple[Ledger, Ledger]) -> None:
    """While A's lease is live, B's claim gets None and changes nothing."""
    a, b = replicas
    claimed(a, "a")

    assert b.leases.claim(ROUTE, "b", TTL) is None
    info = b.leases.of(ROUTE)
    assert info is not None
    assert (info.holder, info.run_number) == ("a", 1)


def test_claiming_ones_own_live_lease_renews_it_under_the_same_run(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """A claim by the holder extends the lease and keeps the run number."""
    a, _ = replicas
    claimed(a, "a")
    clock.advance(timedelta(seconds=30))

    assert claimed(a, "a") == Lease(ROUTE, "a", 1, clock() + TTL)


def test_an_expired_lease_is_taken_over_under_the_next_run(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """Once A's lease expired, B takes the route and the run number moves on."""
    a, b = replicas
    claimed(a, "a")
    clock.advance(TTL)  # expires_at == now: no longer live

    assert claimed(b, "b") == Lease(ROUTE, "b", 2, clock() + TTL)
    assert a.leases.claim(ROUTE, "a", TTL) is None


def test_reclaiming_ones_own_expired_lease_starts_a_new_run(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """An expired lease is taken over even by its last holder: nobody held it meanwhile."""
    a, _ = replicas
    claimed(a, "a")
    clock.advance(TTL + timedelta(seconds=1))

    assert claimed(a, "a").run_number == 2


def test_renewing_extends_a_lease_and_fails_after_a_takeover(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """Renewal moves the expiry on; once B took over, A's renewal raises LeaseLost."""
    a, b = replicas
    lease = claimed(a, "a")
    clock.advance(timedelta(seconds=40))
    renewed = a.leases.renew(lease, TTL)
    assert renewed == Lease(ROUTE, "a", 1, clock() + TTL)

    clock.advance(TTL)
    claimed(b, "b")
    with pytest.raises(LeaseLost, match="b holds run 2"):
        a.leases.renew(renewed, TTL)


def test_releasing_frees_the_route_at_once(replicas: tuple[Ledger, Ledger], clock: Clock) -> None:
    """A released lease is free: B takes it without waiting for the TTL."""
    a, b = replicas
    lease = claimed(a, "a")
    a.leases.release(lease)

    info = a.leases.of(ROUTE)
    assert info is not None
    assert info.is_free(clock())
    assert claimed(b, "b").run_number == 2


def test_releasing_a_lease_taken_over_leaves_the_new_holder_alone(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """A late release by the old holder does not free the route B now holds."""
    a, b = replicas
    old = claimed(a, "a")
    clock.advance(TTL)
    new = claimed(b, "b")

    a.leases.release(old)

    info = a.leases.of(ROUTE)
    assert info is not None
    assert (info.holder, info.run_number, info.expires_at) == ("b", 2, new.expires_at)


def test_leases_lists_every_claimed_route(replicas: tuple[Ledger, Ledger], clock: Clock) -> None:
    """``leases`` is what ``bridge status`` shows: one line per route ever claimed."""
    a, b = replicas
    claimed(a, "a", "route-1")
    claimed(b, "b", "route-2")
    clock.advance(TTL)

    listed = a.leases.listed()

    assert [(i.route, i.holder, i.run_number) for i in listed] == [
        ("route-1", "a", 1),
        ("route-2", "b", 1),
    ]
    assert all(i.is_free(clock()) for i in listed)


def test_a_route_never_claimed_has_no_lease(ledger: Ledger) -> None:
    """Nothing is written before the first claim."""
    assert ledger.leases.of(ROUTE) is None
    assert ledger.leases.listed() == []


# fencing


def test_fenced_writes_go_through_while_the_lease_is_ours(replicas: tuple[Ledger, Ledger]) -> None:
    """Inside ``leases.fenced``, intents and pages are written as usual."""
    a, _ = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        a.creates.record_intents(ROUTE, [intent(1)])
        a.cycles.complete_page(ROUTE, [result(1)], cursor=(ROUTE, SOURCE, "c1"))

    assert a.links.of(ref_of(1), TARGET) is not None
    assert a.cycles.cursor(ROUTE, SOURCE) == "c1"


def test_record_intents_after_a_takeover_fails_and_writes_nothing(
    replicas: tuple[Ledger, Ledger], clock: Clock, row_counts: RowCounts
) -> None:
    """A's intent, after B took over the route, raises LeaseLost and commits no row."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        clock.advance(TTL)
        claimed(b, "b")
        before = row_counts()
        with pytest.raises(LeaseLost, match="route 'sidumas-to-lapor' was taken over"):
            a.creates.record_intents(ROUTE, [intent(1)])

    assert row_counts() == before
    assert a.creates.pending(ROUTE, TARGET) == {}


def test_complete_page_after_a_takeover_fails_and_the_cursor_stays(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """A's page, after B took over, neither links the result nor moves the cursor."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        a.creates.record_intents(ROUTE, [intent(1)])
        a.cycles.complete_page(ROUTE, cursor=(ROUTE, SOURCE, "c1"))
        clock.advance(TTL)
        claimed(b, "b")
        with pytest.raises(LeaseLost):
            a.cycles.complete_page(ROUTE, [result(1)], cursor=(ROUTE, SOURCE, "c2"))

    assert a.cycles.cursor(ROUTE, SOURCE) == "c1"
    assert a.links.of(ref_of(1), TARGET) is None
    assert list(a.creates.pending(ROUTE, TARGET)) == [ref_of(1)]  # B resolves it


def test_two_way_writes_of_the_route_are_fenced_too(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """Status and follow-up writes that name the route fail after a takeover."""
    a, b = replicas
    linked(a, 1)
    with a.leases.fenced(claimed(a, "a"), TTL):
        clock.advance(TTL)
        claimed(b, "b")
        with pytest.raises(LeaseLost):
            a.statuses.record(ROUTE, ref_of(1), status="verified", at=clock(), system=SOURCE)
        with pytest.raises(LeaseLost):
            a.followups.record_intents(ROUTE, ref_of(1), ["f" * 64], TARGET)

    assert a.statuses.of([ref_of(1)])[ref_of(1)].status == "new"


def test_the_fence_guards_only_its_own_route(replicas: tuple[Ledger, Ledger], clock: Clock) -> None:
    """A takeover of one route leaves the writes of another route alone."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        clock.advance(TTL)
        claimed(b, "b")
        a.cycles.set_cursor("other-route", SOURCE, "c1")

    assert a.cycles.cursor("other-route", SOURCE) == "c1"


def test_without_a_fence_writes_ignore_the_lease(replicas: tuple[Ledger, Ledger]) -> None:
    """Single-process use, tests and tools never set a fence: nothing changes for them."""
    a, b = replicas
    claimed(b, "b")

    a.creates.record_intents(ROUTE, [intent(1)])
    a.cycles.complete_page(ROUTE, [result(1)], cursor=(ROUTE, SOURCE, "c1"))

    assert a.cycles.cursor(ROUTE, SOURCE) == "c1"


def test_leaving_the_fenced_block_lifts_the_fence(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """After ``leases.fenced`` ends, the same ledger writes unfenced again."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        pass
    clock.advance(TTL)
    claimed(b, "b")

    a.cycles.set_cursor(ROUTE, SOURCE, "c1")
    a.leases.check_fence(ROUTE)

    assert a.cycles.cursor(ROUTE, SOURCE) == "c1"


def test_check_fence_fails_once_the_route_was_taken_over(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """The check made before each remote write raises LeaseLost after a takeover."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        a.leases.check_fence(ROUTE)
        assert a.leases.still_holds(ROUTE)
        clock.advance(TTL)
        claimed(b, "b")
        assert not a.leases.still_holds(ROUTE)  # the read-only look made after a remote create
        with pytest.raises(LeaseLost):
            a.leases.check_fence(ROUTE)


def test_a_create_slower_than_what_was_left_of_the_lease_keeps_the_route(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """The note made before a remote create renews for a full TTL: nobody takes over mid-create."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        a.creates.record_intents(ROUTE, [intent(1)])
        clock.advance(timedelta(seconds=15))  # 45 s of 60 left: no renewal was due
        a.creates.sending(ROUTE, ref_of(1), TARGET)  # right before the remote create
        clock.advance(TTL - timedelta(seconds=1))  # the create takes almost a whole TTL

        assert b.leases.claim(ROUTE, "b", TTL) is None
        a.cycles.complete_page(
            ROUTE, [result(1)], cursor=(ROUTE, SOURCE, "c1")
        )  # A's result counts

    assert a.cycles.cursor(ROUTE, SOURCE) == "c1"


def test_sending_a_create_is_noted_for_a_successor_and_fenced(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """``sent_at`` tells a create perhaps on its way from one never sent; a takeover stops it."""
    a, b = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        a.creates.record_intents(ROUTE, [intent(1), intent(2)])
        a.creates.sending(ROUTE, ref_of(1), TARGET)
        pending = a.creates.pending(ROUTE, TARGET)
        assert (pending[ref_of(1)].sent_at, pending[ref_of(2)].sent_at) == (clock(), None)

        clock.advance(TTL)
        claimed(b, "b")
        with pytest.raises(LeaseLost):
            a.creates.sending(ROUTE, ref_of(2), TARGET)
    assert a.creates.pending(ROUTE, TARGET)[ref_of(2)].sent_at is None


def test_a_fence_check_renews_the_lease_once_a_third_of_the_ttl_passed(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """A long cycle keeps its route: its writes renew the lease, but not on every write."""
    a, _ = replicas
    lease = claimed(a, "a")
    with a.leases.fenced(lease, TTL):
        clock.advance(timedelta(seconds=10))
        a.cycles.complete_page(ROUTE)
        info = a.leases.of(ROUTE)
        assert info is not None
        assert info.expires_at == lease.expires_at  # 50 s of 60 left: not yet

        clock.advance(timedelta(seconds=15))
        a.cycles.complete_page(ROUTE)
        info = a.leases.of(ROUTE)
        assert info is not None
        assert (info.expires_at, info.run_number) == (clock() + TTL, 1)


def test_an_expired_lease_nobody_took_still_fences_and_is_renewed(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """Past its expiry but not taken over, the lease is still ours: the write renews it."""
    a, _ = replicas
    with a.leases.fenced(claimed(a, "a"), TTL):
        clock.advance(TTL * 2)
        a.cycles.set_cursor(ROUTE, SOURCE, "c1")

    info = a.leases.of(ROUTE)
    assert info is not None
    assert (info.holder, info.run_number, info.expires_at) == ("a", 1, clock() + TTL)


# several replicas racing


class TickClock:
    """One clock for every replica; each reading moves it on by a millisecond.

    Leases then expire after a number of ledger calls rather than of seconds, so the
    replicas keep taking routes from each other without the test ever sleeping.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = T0

    def __call__(self) -> datetime:
        with self._lock:
            self._now += timedelta(milliseconds=1)
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


@dataclass
class Race:
    """What every replica saw: the runs it was granted and the counter values it wrote."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    granted: dict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    written: dict[str, list[tuple[int, int, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )


RACE_ROUTES = ("route-1", "route-2", "route-3")
RACE_TTL = timedelta(milliseconds=8)
RACE_ROUNDS = 30


def _replica(
    ledger: Ledger, name: str, race: Race, clock: TickClock, start: threading.Barrier
) -> None:
    """Claim each route again and again; while holding one, add one to its counter.

    The counter is read outside the write's transaction, as the engine plans from
    the ledger and writes later; now and then the replica "stalls" between the two
    (the clock jumps past the TTL), so another replica may take the route meanwhile.
    """
    rng = random.Random(name)
    start.wait()
    for _ in range(RACE_ROUNDS):
        for route in RACE_ROUTES:
            lease = ledger.leases.claim(route, name, RACE_TTL)
            if lease is None:
                continue
            with race.lock:
                race.granted[(route, lease.run_number)].add(name)
            with ledger.leases.fenced(lease, RACE_TTL):
                value = int(ledger.cycles.cursor(route, "counter") or 0) + 1
                if rng.random() < 0.3:
                    clock.advance(RACE_TTL * 2)
                    ledger.leases.listed()  # a round-trip, so another replica may step in
                try:
                    ledger.cycles.set_cursor(route, "counter", str(value))
                except LeaseLost:
                    continue
            with race.lock:
                race.written[route].append((value, lease.run_number, name))


@pytest.mark.parametrize("count", [2, 3])
def test_racing_replicas_never_hold_a_route_together(ledger_url: str, count: int) -> None:
    """Each run number goes to one replica, and fenced writes never interleave.

    Every replica adds one to a per-route counter under its lease. Had two replicas
    written under the route at once, two would have read the same value and written
    the same next one (a lost update); had an older run written after a newer one,
    the run numbers would go backwards along the counter.
    """
    clock, race = TickClock(), Race()
    ledgers = [Ledger.open(ledger_url, clock=clock) for _ in range(count)]
    start = threading.Barrier(count)
    threads = [
        threading.Thread(target=_replica, args=(ledger, f"replica-{i}", race, clock, start))
        for i, ledger in enumerate(ledgers)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        assert not any(thread.is_alive() for thread in threads)

        assert all(len(holders) == 1 for holders in race.granted.values()), race.granted
        for route in RACE_ROUTES:
            writes = sorted(race.written[route])
            values = [value for value, _run, _name in writes]
            assert values == list(range(1, len(values) + 1)), f"lost update on {route}"
            runs = [run for _value, run, _name in writes]
            assert runs == sorted(runs), f"an older run wrote after a newer one on {route}"
            assert ledgers[0].cycles.cursor(route, "counter") == str(len(values))
        holders = {name for writes in race.written.values() for _v, _r, name in writes}
        assert len(holders) > 1, "the replicas never took a route from each other"
    finally:
        for ledger in ledgers:
            ledger.close()
