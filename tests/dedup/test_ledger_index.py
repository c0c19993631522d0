"""``ledger.duplicates``: the indexed candidates, the review queue and its decisions."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.dedup import probe_of
from bridge.ledger import CreateIntent, CreateResult, Ledger
from bridge.ledger.duplicates import LINKED, NOT_DUPLICATE, REVIEW, SPLIT
from bridge.model import Complaint, Reporter

NOW = datetime(2026, 12, 1, tzinfo=UTC)
TEXT = "jalan di depan gang melati rusak parah sejak bulan lalu dan belum juga diperbaiki dinas"


def complaint(source_id: str, content: str, phone: str | None = None) -> Complaint:
    return Complaint(
        source_id=source_id, title="Jalan rusak", content=content, created_at=NOW,
        reporter=Reporter(phone=phone),
    )  # fmt: skip


def indexed(ledger: Ledger, ref: str, c: Complaint, system: str = "door-a") -> None:
    """A complaint created from ``system`` into lapor, and indexed as act does."""
    intent = CreateIntent(ref, system, c.source_id, "h", "lapor")
    ledger.creates.record_intents("r", [intent])
    ledger.duplicates.index({ref: probe_of(c, b"k", NOW)})
    ledger.cycles.complete_page(
        "r",
        [CreateResult(ref, system, c.source_id, "h"), CreateResult(ref, "lapor", "L" + ref, "h")],
    )


def test_a_copy_finds_the_indexed_complaint_and_a_stranger_finds_nothing(ledger: Ledger) -> None:
    """Candidates come from the indexed keys; unrelated text shares none."""
    indexed(ledger, "ref-1", complaint("1", TEXT, "0812000111"))
    copy = probe_of(complaint("9", TEXT + " tolong", "0812000111"), b"k", NOW)
    [found] = ledger.duplicates.candidates(copy, system="door-b", cap=5)
    assert found.ref == "ref-1" and found.reporters == ("phone",)
    stranger = probe_of(
        complaint("8", "antrean ktp elektronik di kecamatan lama sekali"), b"k", NOW
    )
    assert ledger.duplicates.candidates(stranger, system="door-b", cap=5) == []


def test_a_complaint_already_linked_in_the_records_system_is_marked_own(ledger: Ledger) -> None:
    """A copy within door-a finds door-a's complaint, marked own (it cannot be linked there)."""
    indexed(ledger, "ref-1", complaint("1", TEXT))
    probe = probe_of(complaint("2", TEXT), b"k", NOW)
    [same_door] = ledger.duplicates.candidates(probe, system="door-a", cap=5)
    assert same_door.ref == "ref-1" and same_door.own
    [other_door] = ledger.duplicates.candidates(probe, system="door-b", cap=5)
    assert not other_door.own


def test_indexing_twice_adds_nothing(ledger: Ledger) -> None:
    """A retried page indexes the same complaint once."""
    indexed(ledger, "ref-1", complaint("1", TEXT))
    ledger.duplicates.index({"ref-1": probe_of(complaint("1", TEXT), b"k", NOW)})
    probe = probe_of(complaint("2", TEXT), b"k", NOW)
    assert len(ledger.duplicates.candidates(probe, system="door-b", cap=5)) == 1


def test_a_queued_pair_shows_both_texts_and_a_decision_sticks(ledger: Ledger) -> None:
    """Review shows both texts; not-duplicate is kept even when the engine queues it again."""
    indexed(ledger, "ref-1", complaint("1", TEXT))
    evidence = [{"candidate": "ref-1", "score": 75.0}]
    ledger.duplicates.record("r", "door-b", "7", "ref-7", "teks baru", REVIEW, evidence)
    [pair] = ledger.duplicates.pairs(REVIEW)
    assert (pair.text, pair.candidate_text, pair.evidence) == ("teks baru", TEXT, evidence[0])
    ledger.duplicates.decide(pair.id, NOT_DUPLICATE, "operator")
    ledger.duplicates.record("r", "door-b", "7", "ref-7", "teks baru", REVIEW, evidence)
    assert ledger.duplicates.decisions(["ref-7"]) == {"ref-7": {"ref-1": NOT_DUPLICATE}}
    assert [q.source_id for q in ledger.quarantine.listed("r")] == ["7"]  # fetched again
    assert ledger.quarantine.to_retry("r", "door-b") == ["7"]


def test_split_takes_the_records_link_off_and_asks_for_it_again(ledger: Ledger) -> None:
    """A wrong link undone: door-b's link leaves the complaint, door-a's and lapor's stay."""
    indexed(ledger, "ref-1", complaint("1", TEXT))
    ledger.cycles.complete_page("r2", [CreateResult("ref-1", "door-b", "7", "h")])
    evidence = [{"candidate": "ref-1", "exact": True}]
    ledger.duplicates.record("r2", "door-b", "7", "ref-7", TEXT, LINKED, evidence)
    [pair] = ledger.duplicates.pairs(LINKED)
    ledger.duplicates.decide(pair.id, SPLIT, "operator")
    assert ledger.links.of("ref-1", "door-b") is None
    assert ledger.links.of("ref-1", "door-a") is not None
    assert ledger.links.of("ref-1", "lapor") is not None
    assert ledger.quarantine.to_retry("r2", "door-b") == ["7"]
    [trace] = ledger.history.find("ref-1")
    assert {"duplicate.linked", "duplicate.split"} <= {e.kind for e in trace.events}


def test_a_complaint_whose_create_to_the_records_system_is_unfinished_is_marked_own(
    ledger: Ledger,
) -> None:
    """A LAPOR! copy of a door complaint whose create to LAPOR! has not landed yet: linking it
    there would be overwritten when that create lands, so the candidate counts as own."""
    intent = CreateIntent("ref-1", "door-a", "1", "h", "lapor")
    ledger.creates.record_intents("r", [intent])  # the create to lapor is started, not done
    ledger.duplicates.index({"ref-1": probe_of(complaint("1", TEXT), b"k", NOW)})
    probe = probe_of(complaint("L7", TEXT), b"k", NOW)
    [pending] = ledger.duplicates.candidates(probe, system="lapor", cap=5)
    assert pending.ref == "ref-1" and pending.own
    ledger.cycles.complete_page(
        "r", [CreateResult("ref-1", "door-a", "1", "h"), CreateResult("ref-1", "lapor", "L1", "h")]
    )
    [landed] = ledger.duplicates.candidates(probe, system="lapor", cap=5)
    assert landed.own  # now by its link
    [other] = ledger.duplicates.candidates(probe, system="door-b", cap=5)
    assert not other.own
