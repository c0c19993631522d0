"""Plan step 10: the duplicate verdict turns a create into a link or a hold, and nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bridge.dedup import DedupRules, Evidence, Probe, Verdict
from bridge.model import Complaint
from bridge.sync.adoption import Found
from bridge.sync.facts import Facts, Observation
from bridge.sync.outgoing import Outgoing
from bridge.sync.plan import Create, HoldDuplicate, Link, LinkDuplicate, Skip, Withhold, plan

COMPLAINT = Complaint(source_id="7", title="Jalan rusak", content="jalan di gang melati rusak")
OBSERVED = Observation("7", {"id": 7}, COMPLAINT, seen_hash="h7")
PROBE = Probe(
    "jalan di gang melati rusak", "t", (), (), datetime(2026, 1, 1, tzinfo=UTC), None, None
)
EVIDENCE = Evidence("ref-1", 100.0, True, 120, (), 1.0, None)
FACTS = Facts(
    observations=[OBSERVED],
    known={},
    pending_refs=set(),
    refs={"7": "ref-7"},
    target="lapor",
    target_receives_confidential=False,
    outgoing={"7": Outgoing(COMPLAINT, {"judul": "Jalan rusak"}, "t7")},
    probes={"7": PROBE},
)


def test_a_link_verdict_links_to_the_existing_complaint_instead_of_creating() -> None:
    """Deterministic evidence → LinkDuplicate to ref-1, carrying the evidence and own ref."""
    [action] = plan(replace(FACTS, duplicates={"7": Verdict(link=EVIDENCE)}))
    assert isinstance(action, LinkDuplicate)
    assert (action.ref, action.own_ref, action.evidence) == ("ref-1", "ref-7", EVIDENCE)


def test_a_grey_verdict_holds_the_record_for_a_person() -> None:
    """Grey band → HoldDuplicate, its reason naming the candidate and `bridge review`."""
    [action] = plan(replace(FACTS, duplicates={"7": Verdict(review=(EVIDENCE,))}))
    assert isinstance(action, HoldDuplicate)
    assert "ref-1" in action.reason and "bridge review duplicates" in action.reason


def test_no_verdict_creates_with_the_probe_for_the_index() -> None:
    """No duplicate → Create, carrying what the index keeps of it."""
    [action] = plan(replace(FACTS, duplicates={"7": Verdict()}))
    assert isinstance(action, Create) and action.probe == PROBE


def test_an_unconfirmed_create_or_a_copy_found_is_never_turned_into_a_duplicate() -> None:
    """A pending create is looked for, and a copy the target holds is linked: no verdict used."""
    verdict = {"7": Verdict(link=EVIDENCE)}
    pending = replace(
        FACTS, duplicates=verdict, pending_refs={"ref-7"}, target_can_find_by_ref=True
    )
    [action] = plan(pending)
    assert isinstance(action, Create) and action.resend
    found = replace(FACTS, duplicates=verdict, found={"7": (Found("L9", "natural key"),)})
    [action] = plan(found)
    assert isinstance(action, Link) and action.target_id == "L9"


def test_a_confidential_record_is_withheld_before_any_duplicate_check() -> None:
    """Privacy first: a rahasia record for a target not cleared is withheld, never linked."""
    secret = replace(OBSERVED, complaint=COMPLAINT.model_copy(update={"is_secret": True}))
    facts = replace(FACTS, observations=[secret], duplicates={"7": Verdict(link=EVIDENCE)})
    [action] = plan(facts)
    assert isinstance(action, Withhold)


def test_two_records_of_one_page_never_join_the_same_complaint() -> None:
    """The second record linking to ref-1 on the same page is held for a person instead."""
    other = replace(OBSERVED, source_id="8", native={"id": 8})
    facts = replace(
        FACTS,
        observations=[OBSERVED, other],
        refs={"7": "ref-7", "8": "ref-8"},
        outgoing={**FACTS.outgoing, "8": FACTS.outgoing["7"]},
        probes={"7": PROBE, "8": PROBE},
        duplicates={"7": Verdict(link=EVIDENCE), "8": Verdict(link=EVIDENCE)},
    )
    first, second = plan(facts)
    assert isinstance(first, LinkDuplicate) and first.ref == "ref-1"
    assert isinstance(second, HoldDuplicate) and second.ref == "ref-8"
    assert second.candidates[0].same_system  # `bridge review link` will refuse it


def two_new_records(first: Probe, second: Probe) -> Facts:
    """Records 7 and 8, both new on one page, neither a duplicate of an indexed complaint."""
    return replace(
        FACTS,
        observations=[OBSERVED, replace(OBSERVED, source_id="8", native={"id": 8})],
        refs={"7": "ref-7", "8": "ref-8"},
        outgoing={**FACTS.outgoing, "8": FACTS.outgoing["7"]},
        probes={"7": first, "8": second},
        duplicates={"7": Verdict(), "8": Verdict()},
        duplicate_rules=DedupRules(),
    )


def test_a_copy_of_an_earlier_create_on_the_same_page_waits_for_the_next_cycle() -> None:
    """Two new records with the same text on one page: the first is created, the second
    waits (owed, so the cursor waits) to be checked against the index next cycle."""
    text = "lampu penerangan jalan di gang melati tiga sudah mati dua minggu mohon diperbaiki"
    probe = replace(PROBE, text=text, text_hash="same")
    first, second = plan(two_new_records(probe, probe))
    assert isinstance(first, Create) and first.ref == "ref-7"
    assert isinstance(second, Skip) and second.owed and second.kind == "deferred"
    assert "ref-7" in second.reason


def test_different_records_of_one_page_are_both_created() -> None:
    """Two unrelated new records on one page: nothing waits."""
    stranger = replace(PROBE, text="antrean ktp elektronik lama sekali", text_hash="other")
    assert [type(a) for a in plan(two_new_records(PROBE, stranger))] == [Create, Create]
