"""Pending creates: intent before the remote call, completion, failure, and no doubling."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bridge.ledger import CreateResult, Ledger, LedgerConflict
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, RowCounts, intent, ref_of, result


def test_intent_then_completion_links_both_sides(ledger: Ledger) -> None:
    """After intent and completion the complaint is linked in the source and the target."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    ledger.creates.complete(ROUTE, [result(1)])

    source = ledger.links.of(ref_of(1), SOURCE)
    target = ledger.links.of(ref_of(1), TARGET)
    assert source is not None
    assert source.remote_id == "1"
    assert source.last_seen_hash == intent(1).source_hash
    assert target is not None
    assert target.remote_id == "1000001"
    assert target.last_written_hash == target.last_seen_hash == result(1).target_hash
    assert target.origin_system == SOURCE
    assert target.origin_id == "1"
    assert ledger.creates.pending(ROUTE, TARGET) == {}


def test_intent_is_pending_before_completion(ledger: Ledger) -> None:
    """A recorded intent is a started create with one attempt, not yet a target link."""
    ledger.creates.record_intents(ROUTE, [intent(1)])

    pending = ledger.creates.pending(ROUTE, TARGET)
    assert list(pending) == [ref_of(1)]
    assert pending[ref_of(1)].attempts == 1
    assert pending[ref_of(1)].state == "started"
    assert (pending[ref_of(1)].origin_system, pending[ref_of(1)].origin_id) == (SOURCE, "1")
    assert ledger.links.of(ref_of(1), TARGET) is None


def test_repeating_intents_and_completion_adds_no_rows(
    ledger: Ledger, row_counts: RowCounts
) -> None:
    """Retried intents and completions upsert: one complaint, two links, one operation."""
    for _ in range(3):
        ledger.creates.record_intents(ROUTE, [intent(1), intent(1)])
    assert ledger.creates.pending(ROUTE, TARGET)[ref_of(1)].attempts == 3
    for _ in range(2):
        ledger.creates.complete(ROUTE, [result(1)])

    counts = row_counts()
    assert (counts["complaint"], counts["link"], counts["pending_op"]) == (1, 2, 1)
    kinds = [e.kind for e in ledger.history.find(ref_of(1))[0].events]
    assert kinds == ["complaint.intent"] * 3 + ["complaint.created"]


def test_pending_creates_lists_only_started_operations(ledger: Ledger) -> None:
    """Done creates, other routes and other targets are not pending here."""
    ledger.creates.record_intents(ROUTE, [intent(n) for n in (1, 2, 3)])
    ledger.creates.record_intents("other-route", [intent(4)])
    ledger.creates.complete(ROUTE, [result(2)])

    assert set(ledger.creates.pending(ROUTE, TARGET)) == {ref_of(1), ref_of(3)}
    assert set(ledger.creates.pending(ROUTE, TARGET, [ref_of(3), ref_of(2)])) == {ref_of(3)}
    assert ledger.creates.pending(ROUTE, "home") == {}


def test_failed_create_stays_resumable(ledger: Ledger) -> None:
    """A failed create keeps its intent, with the error, so the next cycle resumes it."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    ledger.creates.fail(ROUTE, ref_of(1), TARGET, "LAPOR! answered 503")

    pending = ledger.creates.pending(ROUTE, TARGET)[ref_of(1)]
    assert pending.state == "started"
    assert pending.last_error == "LAPOR! answered 503"
    ledger.creates.complete(ROUTE, [result(1)])
    assert ledger.creates.pending(ROUTE, TARGET) == {}


def test_a_done_create_is_not_reopened_by_a_new_intent(ledger: Ledger) -> None:
    """An intent recorded again after its create was done leaves the create done."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    ledger.creates.complete(ROUTE, [result(1)])
    ledger.creates.record_intents(ROUTE, [intent(1)])

    assert ledger.creates.pending(ROUTE, TARGET) == {}
    assert ledger.cycles.status(ROUTE).linked == 1


def test_adopted_create_is_recorded_as_adopted(ledger: Ledger) -> None:
    """A create found already made remotely is linked with a `complaint.adopted` event."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    ledger.creates.complete(ROUTE, [result(1, adopted=True)])

    trace = ledger.history.find(ref_of(1))[0]
    assert [e.kind for e in trace.events][-1] == "complaint.adopted"
    assert trace.events[-1].data() == {"remote_id": "1000001"}


def test_completing_an_unknown_ref_is_refused(ledger: Ledger) -> None:
    """A completion without a recorded intent is a conflict, and nothing is written."""
    with pytest.raises(LedgerConflict, match=r"creates\.record_intents"):
        ledger.creates.complete(ROUTE, [result(9)])
    assert ledger.history.find("1000009") == []


def test_one_remote_record_cannot_belong_to_two_complaints(ledger: Ledger) -> None:
    """UNIQUE(system, remote_id) holds: a second complaint cannot claim the same record."""
    ledger.creates.record_intents(ROUTE, [intent(1), intent(2)])
    ledger.creates.complete(ROUTE, [result(1)])
    stolen = CreateResult(ref_of(2), TARGET, "1000001", "h", adopted=False)

    with pytest.raises(LedgerConflict, match="refused a write"):
        ledger.creates.complete(ROUTE, [stolen])
    assert [t.ref for t in ledger.history.find("1000001")] == [ref_of(1)]
    assert set(ledger.creates.pending(ROUTE, TARGET)) == {ref_of(2)}


def test_a_source_record_cannot_move_to_another_complaint(ledger: Ledger) -> None:
    """An intent whose source record is already another complaint's is refused."""
    ledger.creates.record_intents(ROUTE, [intent(1)])
    moved = replace(intent(1), ref=ref_of(2))
    with pytest.raises(LedgerConflict, match="already linked"):
        ledger.creates.record_intents(ROUTE, [moved])
    assert ledger.history.find(ref_of(2)) == []
