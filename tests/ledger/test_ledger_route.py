"""RouteLedger: one route's part of the ledger with its names bound, fenced by its own lease."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest

from bridge.errors import RetryableError
from bridge.health import PausePolicy
from bridge.ledger import (
    Fence,
    LeaseLost,
    Ledger,
    RouteLedger,
    RouteMemory,
    SeenUpdate,
)
from tests.ledger.ledger_factories import (
    ROUTE,
    SOURCE,
    T0,
    TARGET,
    TTL,
    Clock,
    RowCounts,
    claimed,
    digest,
    intent,
    ref_of,
    result,
)

POLICY = PausePolicy(after_failures=1, first_pause=timedelta(seconds=30), max_pause=timedelta(1))


def memory_of(ledger: Ledger, fence: Fence | None = None) -> RouteLedger:
    return RouteLedger(ledger, ROUTE, SOURCE, TARGET, fence)


def protocol_methods() -> set[str]:
    return {name for name in vars(RouteMemory) if not name.startswith("_")}


def test_route_ledger_has_every_method_of_route_memory_with_its_parameters() -> None:
    """The sync engine's protocol is met name by name, parameter by parameter."""
    assert protocol_methods()  # the protocol lists something
    for name in protocol_methods():
        wanted = inspect.signature(getattr(RouteMemory, name)).parameters
        given = inspect.signature(getattr(RouteLedger, name)).parameters
        assert list(given) == list(wanted), name


def test_ledger_holds_concepts_and_no_flat_methods(ledger: Ledger) -> None:
    """``Ledger`` opens, closes and names itself; everything else is on a concept object."""
    methods = {
        name
        for name, value in inspect.getmembers(type(ledger), callable)
        if not name.startswith("_")
    }
    assert methods == {"open", "close", "identity"}
    concepts = {
        "links",
        "creates",
        "quarantine",
        "followups",
        "statuses",
        "reviews",
        "polls",
        "history",
        "cycles",
        "health",
        "leases",
        "systems",
        "meta",
    }
    assert concepts <= set(vars(ledger))


def test_a_page_through_the_route_ledger_lands_under_the_bound_names(ledger: Ledger) -> None:
    """Intents, results, observations, owed work and the cursor go to the route's systems."""
    memory = memory_of(ledger)
    memory.record_intents([intent(1), intent(2)])
    assert set(memory.pending_creates()) == {ref_of(1), ref_of(2)}
    assert set(memory.pending_creates([ref_of(2)])) == {ref_of(2)}

    seen = [SeenUpdate("1", digest("source 1 edited"))]
    memory.complete_page([result(1)], cursor="c1", seen=seen, owed=["1"])

    assert memory.cursor() == "c1" == ledger.cycles.cursor(ROUTE, SOURCE)
    assert set(memory.pending_creates()) == {ref_of(2)}
    assert memory.count_source_links() == 2
    assert set(memory.links_for_source(["1", "2", "3"])) == {"1", "2"}
    target = memory.target_link(ref_of(1))
    assert target is not None and target.remote_id == "1000001"
    assert memory.links_for_target(["1000001"])["1000001"].ref == ref_of(1)
    source = memory.source_link(ref_of(1))
    assert source is not None and source.last_seen_hash == digest("source 1 edited")
    (due,) = memory.due_for_poll(now=T0, limit=10)  # owed work, and linked in the target
    assert due.remote_id == "1"


def test_a_failed_and_a_sending_create_name_the_route_target(ledger: Ledger) -> None:
    """``sending_create`` stamps the target's pending create; ``fail_create`` keeps it open."""
    memory = memory_of(ledger)
    memory.record_intents([intent(1)])
    memory.sending_create(ref_of(1))
    memory.fail_create(ref_of(1), "LAPOR! answered 503")

    pending = memory.pending_creates()[ref_of(1)]
    assert pending.target_system == TARGET
    assert pending.sent_at is not None and pending.last_error == "LAPOR! answered 503"


def test_the_quarantine_of_the_route_source(ledger: Ledger) -> None:
    """Records are set aside, held, marked for retry, failed again and released, per source."""
    memory = memory_of(ledger)
    memory.quarantine("7", "title is empty", "title", '{"id": "7"}')
    memory.quarantine("8", "no reporter", None, '{"id": "8"}')
    assert memory.quarantined_ids() == {"7", "8"}
    assert memory.quarantine_held() == {"7": '{"id": "7"}', "8": '{"id": "8"}'}

    ledger.quarantine.request_retry(route=ROUTE)
    assert memory.quarantine_held() == {}
    assert sorted(memory.quarantine_to_retry()) == ["7", "8"]

    memory.retry_failed("7", "gone from sidumas")
    memory.complete_page(released=["8"])
    (left,) = ledger.quarantine.listed(ROUTE)
    assert (left.system, left.source_id, left.reason, left.attempts) == (
        SOURCE,
        "7",
        "gone from sidumas",
        2,
    )
    assert memory.quarantine_to_retry() == []


def test_a_retry_asked_for_while_a_cycle_runs_survives_its_setting_aside(ledger_url: str) -> None:
    """A cycle read record 7 before a person asked to retry it (`bridge quarantine retry`, or
    a duplicate decision) and then sets it aside again: the request is kept for the next
    cycle. One asked before the cycle began was tried by it, and is cleared."""
    clock = Clock(T0)
    with Ledger.open(ledger_url, clock=clock) as ledger:
        memory = memory_of(ledger)
        memory.quarantine("7", "may duplicate complaint lb-1", None, '{"id": "7"}')
        memory.quarantine("8", "may duplicate complaint lb-1", None, '{"id": "8"}')
        item = {q.source_id: q.id for q in ledger.quarantine.listed(ROUTE)}
        ledger.quarantine.request_retry([item["8"]])
        clock.advance(timedelta(seconds=1))
        memory.start_cycle()
        clock.advance(timedelta(seconds=1))
        ledger.quarantine.request_retry([item["7"]])  # while the cycle runs
        clock.advance(timedelta(seconds=1))
        memory.quarantine("7", "may duplicate complaint lb-2", None, '{"id": "7"}')
        memory.quarantine("8", "may duplicate complaint lb-2", None, '{"id": "8"}')
        assert memory.quarantine_to_retry() == ["7"]


def test_status_decisions_reviews_and_followups_of_linked_complaints(ledger: Ledger) -> None:
    """Two-way writes take the route, its source as the setter and its target as the copy."""
    memory = memory_of(ledger)
    memory.record_intents([intent(1)])
    memory.complete_page([result(1)])
    ref = ref_of(1)

    memory.record_status(ref, status="verified", at=T0, written=True, raw_code="1", note=None)
    state = memory.complaint_states([ref])[ref]
    assert (state.status, state.status_system) == ("verified", SOURCE)
    target = memory.target_link(ref)
    assert target is not None and target.raw_status_code == "1"

    memory.record_decision(ref, "status.ignored", {"system": SOURCE})
    memory.flag_for_review(ref, TARGET, "write", "field too long", {"field": "title"})
    (review,) = ledger.reviews.listed(ROUTE)
    assert (review.ref, review.system, review.kind) == (ref, TARGET, "write")

    assert memory.note_followups(ref, SOURCE, [("fp-a", "11"), ("fp-b", "12")]) == ["fp-a", "fp-b"]
    memory.record_followup_intents(ref, ["fp-a", "fp-b"])
    memory.complete_followups(ref, [("fp-a", "L-1")])
    memory.fail_followup(ref, "fp-b", "LAPOR! refused: 422")
    assert ledger.followups.pending(ref, TARGET) == ["fp-b"]
    copies = {f.fingerprint: f.copies[TARGET] for f in memory.followups_of([ref])[ref]}
    assert copies["fp-a"].remote_id == "L-1" and copies["fp-b"].last_error == "LAPOR! refused: 422"
    kinds = [event.kind for event in ledger.history.find(ref)[0].events]
    assert "status.ignored" in kinds and "status.changed" in kinds


def test_re_polls_are_scheduled_on_the_route_source(ledger: Ledger) -> None:
    """``schedule_polls`` takes source ids; ``due_for_poll`` hands out the source's links."""
    memory = memory_of(ledger)
    memory.record_intents([intent(1)])
    memory.complete_page([result(1)])
    memory.schedule_polls([("1", T0 + TTL)])

    assert memory.due_for_poll(now=T0, limit=10) == []
    (due,) = memory.due_for_poll(now=T0 + TTL, limit=10)
    assert (due.system, due.remote_id) == (SOURCE, "1")


def test_cycles_health_and_the_first_pass_mark(ledger: Ledger) -> None:
    """A cycle's run, the health of the route's two connectors, and the ``adopted`` mark."""
    memory = memory_of(ledger)
    run_id = memory.start_cycle()
    memory.finish_cycle(run_id, ok=True, counts={"create": 1}, error=None)
    last = ledger.cycles.status(ROUTE).last_cycle
    assert last is not None and last.ok and last.counts == {"create": 1}

    memory.note_connector_failure(TARGET, RetryableError("lapor: HTTP 503"), POLICY)
    ledger.health.note_failure("elsewhere", RetryableError("down"), POLICY)
    assert [h.connector for h in memory.connector_health()] == [TARGET]
    memory.note_connector_success([TARGET])
    assert memory.connector_health()[0].failures == 0

    assert not memory.adopted()
    memory.mark_adopted(T0)
    assert memory.adopted() and memory.adopted(ROUTE)
    assert not memory.adopted("lapor-to-sidumas")


def test_a_fenced_route_ledger_writes_while_its_lease_is_live(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """Bound to a live lease, writes go through and the fence check renews the lease."""
    a, _ = replicas
    memory = memory_of(a, Fence(claimed(a, "a"), TTL))
    memory.record_intents([intent(1)])
    clock.advance(TTL / 2)
    memory.check_fence()

    assert memory.still_holds()
    info = a.leases.of(ROUTE)
    assert info is not None and info.expires_at == T0 + TTL / 2 + TTL
    assert memory.resend_wait() is None


def test_a_fenced_route_ledger_stops_writing_once_the_route_is_taken_over(
    replicas: tuple[Ledger, Ledger], clock: Clock, row_counts: RowCounts
) -> None:
    """After another replica took the route, every write of the bound view raises LeaseLost."""
    a, b = replicas
    memory = memory_of(a, Fence(claimed(a, "a"), TTL))
    memory.record_intents([intent(1)])
    clock.advance(TTL)
    claimed(b, "b")
    before = row_counts()

    assert not memory.still_holds()
    with pytest.raises(LeaseLost):
        memory.check_fence()
    with pytest.raises(LeaseLost):
        memory.complete_page([result(1)], cursor="c1")
    with pytest.raises(LeaseLost):
        memory.quarantine("7", "title is empty", "title", "{}")
    assert row_counts() == before
    assert memory.cursor() is None  # reads still answer
    # The fence was the view's own: the ledger outside it is not fenced.
    assert a.leases.still_holds(ROUTE)
    assert memory_of(a).still_holds()


def test_creates_noted_as_sending_together_are_stamped_at_once(ledger: Ledger) -> None:
    """With their intents or in one batch, the creates named get ``sent_at``, the others not."""
    memory = memory_of(ledger)
    memory.record_intents([intent(1), intent(2), intent(3), intent(4)], sending=[ref_of(1)])
    memory.sending_creates([ref_of(2), ref_of(3)])

    pending = memory.pending_creates()
    assert [ref for ref in map(ref_of, (1, 2, 3, 4)) if pending[ref].sent_at] == [
        ref_of(1),
        ref_of(2),
        ref_of(3),
    ]


def test_intents_noted_as_sending_renew_the_lease_for_a_whole_ttl(
    replicas: tuple[Ledger, Ledger], clock: Clock
) -> None:
    """Noting creates as sent with their intents is the check before a remote create."""
    a, b = replicas
    memory = memory_of(a, Fence(claimed(a, "a"), TTL))
    clock.advance(TTL / 10)
    memory.record_intents([intent(1)], sending=[ref_of(1)])
    info = a.leases.of(ROUTE)
    assert info is not None and info.expires_at == T0 + TTL / 10 + TTL
    clock.advance(TTL * 2)
    claimed(b, "b")
    with pytest.raises(LeaseLost):
        memory.record_intents([intent(2)], sending=[ref_of(2)])
