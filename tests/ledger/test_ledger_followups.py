"""Follow-ups: identity by fingerprint, copies per system, intents, completion and failure."""

from __future__ import annotations

import pytest

from bridge.ledger import Ledger, LedgerConflict
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, RowCounts, linked, ref_of

REF = ref_of(1)


@pytest.fixture
def one(ledger: Ledger) -> Ledger:
    """A ledger holding complaint 1, linked in SIDUMAS and LAPOR!."""
    linked(ledger, 1)
    return ledger


def _kinds(ledger: Ledger, prefix: str = "followup.") -> list[str]:
    (trace,) = ledger.history.find(REF)
    return [e.kind for e in trace.events if e.kind.startswith(prefix)]


def test_note_followups_returns_only_new_fingerprints_in_order(one: Ledger) -> None:
    """Fingerprints never seen before come back, in the order observed; known ones do not."""
    assert one.followups.note(REF, SOURCE, [("fp-b", "11"), ("fp-a", "12")]) == ["fp-b", "fp-a"]
    assert one.followups.note(REF, SOURCE, [("fp-c", "13"), ("fp-a", "12")]) == ["fp-c"]

    (known,) = one.followups.of([REF]).values()
    assert [f.fingerprint for f in known] == ["fp-b", "fp-a", "fp-c"]
    assert (known[0].origin_system, known[0].origin_id) == (SOURCE, "11")
    copy = known[0].copies[SOURCE]
    assert (copy.remote_id, copy.state, copy.attempts, copy.last_error) == ("11", "done", 0, None)


def test_note_followups_is_idempotent(one: Ledger, row_counts: RowCounts) -> None:
    """Noting the same observations again returns nothing new and adds no rows."""
    seen = [("fp-a", "11"), ("fp-b", None)]
    one.followups.note(REF, SOURCE, seen)
    before = row_counts()

    assert one.followups.note(REF, SOURCE, seen) == []
    assert row_counts() == before
    assert _kinds(one) == ["followup.noted", "followup.noted"]


def test_a_repeated_identical_followup_is_one_row(one: Ledger, row_counts: RowCounts) -> None:
    """A system showing the same follow-up twice (two ids) holds one follow-up, first id kept."""
    assert one.followups.note(REF, SOURCE, [("fp-a", "11"), ("fp-a", "12")]) == ["fp-a"]
    one.followups.note(REF, SOURCE, [("fp-a", "12")])

    counts = row_counts()
    assert (counts["followup"], counts["followup_copy"]) == (1, 1)
    (followup,) = one.followups.of([REF])[REF]
    assert followup.copies[SOURCE].remote_id == "11"


def test_the_same_fingerprint_on_two_systems_is_one_followup(one: Ledger) -> None:
    """A follow-up seen on LAPOR! after SIDUMAS is not new; it is done on both, origin kept."""
    one.followups.note(REF, SOURCE, [("fp-a", "11")])
    assert one.followups.note(REF, TARGET, [("fp-a", "L-9")]) == []

    (followup,) = one.followups.of([REF])[REF]
    assert followup.origin_system == SOURCE
    assert {s: c.remote_id for s, c in followup.copies.items()} == {SOURCE: "11", TARGET: "L-9"}
    assert one.followups.pending(REF, TARGET) == []


def test_intents_then_completion_mark_copies_done(one: Ledger) -> None:
    """A copy is started (with attempts) before the write and done, with its id, after it."""
    one.followups.note(REF, SOURCE, [("fp-a", "11"), ("fp-b", "12")])
    one.followups.record_intents(ROUTE, REF, ["fp-a", "fp-b"], TARGET)
    one.followups.record_intents(ROUTE, REF, ["fp-a", "fp-b"], TARGET)
    assert one.followups.pending(REF, TARGET) == ["fp-a", "fp-b"]

    one.followups.complete(ROUTE, REF, TARGET, [("fp-a", "L-1"), ("fp-b", None)])

    assert one.followups.pending(REF, TARGET) == []
    copies = {f.fingerprint: f.copies[TARGET] for f in one.followups.of([REF])[REF]}
    assert {fp: (c.state, c.remote_id, c.attempts) for fp, c in copies.items()} == {
        "fp-a": ("done", "L-1", 2),
        "fp-b": ("done", None, 2),
    }
    assert _kinds(one).count("followup.intent") == 4
    assert _kinds(one).count("followup.copied") == 2


def test_a_done_copy_stays_done_when_intended_again(one: Ledger) -> None:
    """Recording an intent for a copy already done neither re-opens it nor adds history."""
    one.followups.note(REF, SOURCE, [("fp-a", "11")])
    one.followups.record_intents(ROUTE, REF, ["fp-a"], TARGET)
    one.followups.complete(ROUTE, REF, TARGET, [("fp-a", "L-1")])
    one.followups.record_intents(ROUTE, REF, ["fp-a"], TARGET)
    one.followups.complete(ROUTE, REF, TARGET, [("fp-a", None)])

    (followup,) = one.followups.of([REF])[REF]
    assert (followup.copies[TARGET].state, followup.copies[TARGET].remote_id) == ("done", "L-1")
    assert _kinds(one).count("followup.intent") == 1
    assert _kinds(one).count("followup.copied") == 1


def test_pending_followups_lists_started_copies_of_that_target_only(one: Ledger) -> None:
    """Only copies started to the asked target and not done are pending."""
    one.followups.note(REF, SOURCE, [("fp-a", "11"), ("fp-b", "12"), ("fp-c", "13")])
    one.followups.record_intents(ROUTE, REF, ["fp-c", "fp-a"], TARGET)
    one.followups.record_intents(ROUTE, REF, ["fp-b"], "home")
    one.followups.complete(ROUTE, REF, TARGET, [("fp-a", "L-1")])

    assert one.followups.pending(REF, TARGET) == ["fp-c"]
    assert one.followups.pending(REF, "home") == ["fp-b"]
    assert one.followups.pending("lb-unknown", TARGET) == []


def test_a_failed_copy_stays_started_with_its_error(one: Ledger) -> None:
    """A failure is remembered on the started copy, which stays pending for a retry."""
    one.followups.note(REF, SOURCE, [("fp-a", "11")])
    one.followups.record_intents(ROUTE, REF, ["fp-a"], TARGET)
    one.followups.fail(ROUTE, REF, "fp-a", TARGET, "LAPOR! refused: 422 text too long")

    assert one.followups.pending(REF, TARGET) == ["fp-a"]
    (followup,) = one.followups.of([REF])[REF]
    copy = followup.copies[TARGET]
    assert (copy.state, copy.attempts) == ("started", 1)
    assert copy.last_error == "LAPOR! refused: 422 text too long"
    assert _kinds(one)[-1] == "followup.copy_failed"

    one.followups.complete(ROUTE, REF, TARGET, [("fp-a", "L-1")])
    (followup,) = one.followups.of([REF])[REF]
    assert followup.copies[TARGET].last_error is None


def test_copying_an_unknown_followup_is_a_conflict(one: Ledger) -> None:
    """Intents, completion and failure need the follow-up noted first."""
    with pytest.raises(LedgerConflict, match=r"followups\.note"):
        one.followups.record_intents(ROUTE, REF, ["fp-x"], TARGET)
    with pytest.raises(LedgerConflict, match=r"followups\.note"):
        one.followups.complete(ROUTE, REF, TARGET, [("fp-x", "L-1")])
    with pytest.raises(LedgerConflict, match=r"followups\.note"):
        one.followups.fail(ROUTE, REF, "fp-x", TARGET, "boom")
    with pytest.raises(LedgerConflict):
        one.followups.note("lb-unknown", SOURCE, [("fp-a", "1")])


def test_an_edited_followup_keeps_its_remote_id_on_the_first_fingerprint(one: Ledger) -> None:
    """A remote id already held by another follow-up is not moved (nor does it stop the route)."""
    one.followups.note(REF, SOURCE, [("fp-a", "11")])
    assert one.followups.note(REF, SOURCE, [("fp-a-edited", "11")]) == ["fp-a-edited"]

    copies = {f.fingerprint: f.copies[SOURCE] for f in one.followups.of([REF])[REF]}
    assert (copies["fp-a"].remote_id, copies["fp-a-edited"].remote_id) == ("11", None)
    assert copies["fp-a-edited"].state == "done"


def test_followups_of_answers_every_asked_ref(ledger: Ledger) -> None:
    """A batch lookup gives each asked ref its own follow-ups, [] for none or unknown."""
    linked(ledger, 1, 2, 3)
    ledger.followups.note(ref_of(1), SOURCE, [("fp-a", "11")])
    ledger.followups.note(ref_of(3), SOURCE, [("fp-a", "31"), ("fp-b", "32")])

    found = ledger.followups.of([ref_of(1), ref_of(2), ref_of(3), "lb-unknown"])
    assert {ref: [f.fingerprint for f in fs] for ref, fs in found.items()} == {
        ref_of(1): ["fp-a"],
        ref_of(2): [],
        ref_of(3): ["fp-a", "fp-b"],
        "lb-unknown": [],
    }


def test_find_shows_the_followups_and_their_history(one: Ledger) -> None:
    """`bridge trace` gets the follow-ups with their copies, and their steps in the history."""
    one.followups.note(REF, SOURCE, [("fp-a", "11")])
    one.followups.record_intents(ROUTE, REF, ["fp-a"], TARGET)
    one.followups.complete(ROUTE, REF, TARGET, [("fp-a", "L-1")])

    (trace,) = one.history.find(REF)
    (followup,) = trace.followups
    assert (followup.fingerprint, followup.origin_system) == ("fp-a", SOURCE)
    assert set(followup.copies) == {SOURCE, TARGET}
    assert _kinds(one) == ["followup.noted", "followup.intent", "followup.copied"]
