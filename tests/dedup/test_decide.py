"""The two decisions: auto-link only on deterministic evidence, the grey band to a person."""

from __future__ import annotations

from dataclasses import replace

from bridge.dedup import DedupRules, Evidence, decide

RULES = DedupRules()
BASE = Evidence(
    ref="c1", score=75.0, exact=False, length=200, shared_keys=(), days_apart=2.0, same_place=None
)


def test_an_exact_long_text_within_the_window_links() -> None:
    """An identical normalised text of 200 characters, two days apart → linked."""
    found = replace(BASE, exact=True, score=100.0)
    assert decide([found], RULES).link == found


def test_an_exact_short_text_is_only_reviewed() -> None:
    """'jalan rusak' typed by two people is not proof: below exact_min_chars → review."""
    short = replace(BASE, exact=True, score=100.0, length=20)
    verdict = decide([short], RULES)
    assert verdict.link is None and verdict.review == (short,)


def test_the_same_reporter_and_similar_text_links_but_similar_text_alone_does_not() -> None:
    """A shared hashed phone and score 90 → link; score 90 without a shared key → review."""
    same_reporter = replace(BASE, score=90.0, shared_keys=("phone",))
    assert decide([same_reporter], RULES).link == same_reporter
    stranger = replace(BASE, score=90.0)
    assert decide([stranger], RULES).link is None
    assert decide([stranger], RULES).review == (stranger,)


def test_outside_the_window_or_in_another_place_nothing_links() -> None:
    """40 days apart → nothing; different region/category → review at most."""
    late = replace(BASE, exact=True, score=100.0, days_apart=40.0)
    assert decide([late], RULES) == decide([], RULES)
    elsewhere = replace(BASE, exact=True, score=100.0, same_place=False)
    verdict = decide([elsewhere], RULES)
    assert verdict.link is None and verdict.review == (elsewhere,)


def test_a_persons_link_decides_and_evidence_kinds_can_be_turned_off() -> None:
    """A confirmed pair links whatever the score; evidence=() sends an exact match to review."""
    confirmed = replace(BASE, score=40.0, confirmed=True)
    assert decide([confirmed], RULES).link == confirmed
    exact = replace(BASE, exact=True, score=100.0)
    assert decide([exact], replace(RULES, evidence=frozenset())).link is None


def test_below_the_grey_band_is_a_different_complaint() -> None:
    """Score 40 with no shared key: neither linked nor reviewed."""
    assert decide([replace(BASE, score=40.0)], RULES) == decide([], RULES)


def test_a_complaint_holding_a_record_of_the_same_door_is_never_linked_but_reviewed() -> None:
    """Exact text (or a person's link) to a complaint of the record's own door → review only."""
    own = replace(BASE, exact=True, score=100.0, same_system=True)
    verdict = decide([own], RULES)
    assert verdict.link is None and verdict.review == (own,)
    confirmed = replace(BASE, score=40.0, confirmed=True, same_system=True)
    assert decide([confirmed], RULES).link is None
