"""The two decisions, never one threshold: link on deterministic evidence, else ask a person.

Pure: the evidence about each candidate was gathered beforehand (``bridge.dedup.probe``).

- **auto-link** only when the evidence is deterministic, within the route's window:
  an exact match of the normalised text (long enough to be one person's words, not
  "jalan rusak"), or the same hashed reporter key *and* a text similarity of at least
  ``auto_score``; or a person said so (``bridge review link``). Never when the two name
  different regions or categories, and never to a complaint that holds a record of the
  new record's own door already (a complaint holds one record per system: the link would
  replace that record's), which goes to a person whatever the evidence.
- **review** (the grey band): a text similarity of at least ``review_score``, or a shared
  reporter key with at least ``reporter_review_score``. The record waits for a person.
- anything else is a different complaint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

EVIDENCE_KINDS = frozenset({"exact", "reporter"})


@dataclass(frozen=True)
class DedupRules:
    """A route's duplicate check (``[routes.duplicates]``); the defaults are measured in bench/."""

    window_days: float = 30.0
    auto_score: float = 80.0
    review_score: float = 70.0
    reporter_review_score: float = 50.0
    exact_min_chars: int = 60
    max_candidates: int = 20
    evidence: frozenset[str] = EVIDENCE_KINDS
    """Which deterministic evidence may link without a person: ``exact``, ``reporter``."""


@dataclass(frozen=True)
class Evidence:
    """What is known about one candidate: what a person sees in ``bridge review``."""

    ref: str
    """The complaint the new record may duplicate."""
    score: float
    """rapidfuzz similarity (0–100) of the two normalised texts."""
    exact: bool
    """The normalised texts are identical."""
    length: int
    """Characters of the new record's normalised text."""
    shared_keys: tuple[str, ...]
    """Kinds of hashed reporter identifier both carry: ``phone``, ``email``, ``nik``."""
    days_apart: float | None
    same_place: bool | None
    """Region and category agree (None: not known on both sides)."""
    confirmed: bool = False
    """A person said these are one complaint (``bridge review link``)."""
    same_system: bool = False
    """The complaint holds a record of the new record's own system already: never auto-linked."""

    def as_detail(self) -> dict[str, object]:
        """The evidence as stored in the complaint's history and the review queue."""
        return {
            "candidate": self.ref,
            "score": round(self.score, 1),
            "exact": self.exact,
            "shared_keys": list(self.shared_keys),
            "days_apart": None if self.days_apart is None else round(self.days_apart, 2),
            "same_place": self.same_place,
            "confirmed": self.confirmed,
            "same_system": self.same_system,
        }


@dataclass(frozen=True)
class Verdict:
    """Link to ``link`` (deterministic evidence), or hold for ``review``, or neither."""

    link: Evidence | None = None
    review: tuple[Evidence, ...] = ()


def decide(candidates: Sequence[Evidence], rules: DedupRules) -> Verdict:
    """The decision on a new record's candidates (see the module docstring)."""
    within = [
        e for e in candidates if e.days_apart is not None and e.days_apart <= rules.window_days
    ]
    auto = [e for e in within if _deterministic(e, rules)]
    if auto:
        return Verdict(link=max(auto, key=lambda e: (e.confirmed, e.exact, e.score)))
    grey = [
        e
        for e in within
        if e.score >= rules.review_score
        or (e.shared_keys and e.score >= rules.reporter_review_score)
        or (e.same_system and _deterministic(replace(e, same_system=False), rules))
    ]
    return Verdict(review=tuple(sorted(grey, key=lambda e: -e.score)[:3]))


def _deterministic(e: Evidence, rules: DedupRules) -> bool:
    if e.same_system:  # linking would take the complaint's record of that system away
        return False
    if e.confirmed:
        return True
    if e.same_place is False:
        return False
    if "exact" in rules.evidence and e.exact and e.length >= rules.exact_min_chars:
        return True
    return "reporter" in rules.evidence and bool(e.shared_keys) and e.score >= rules.auto_score
