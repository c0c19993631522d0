"""A new complaint as the duplicate check sees it, and the evidence about one candidate.

The probe holds the normalised text, its exact hash, its MinHash band keys and its
hashed reporter keys (``bridge.dedup.reporter``); ``evidence`` compares it with one
indexed complaint using rapidfuzz on the normalised texts. Nothing leaves the machine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rapidfuzz import fuzz

from bridge.dedup.decide import Evidence
from bridge.dedup.minhash import band_keys
from bridge.dedup.normalise import normalise, text_hash
from bridge.dedup.reporter import reporter_keys
from bridge.model import Complaint
from bridge.privacy.identity import scrub_identity


@dataclass(frozen=True)
class Probe:
    """What is indexed of a complaint, and what a new one is looked up by."""

    text: str
    text_hash: str
    bands: tuple[str, ...]
    reporters: tuple[str, ...]
    at: datetime
    region: str | None
    category: str | None

    @property
    def keys(self) -> list[str]:
        """Every key the index holds for it: exact text, reporters, bands."""
        return [f"t:{self.text_hash}", *self.reporters, *self.bands]


@dataclass(frozen=True)
class Indexed:
    """A complaint the ledger's duplicate index holds (``ledger.duplicates``)."""

    ref: str
    text: str
    text_hash: str
    at: datetime
    region: str | None
    category: str | None
    shared: int
    """How many of the probe's keys (exact text, reporter, bands) this complaint shares."""
    reporters: tuple[str, ...]
    """Kinds of hashed reporter identifier it shares with the probe (``phone``, ``email``…)."""
    own: bool = False
    """It holds a record of the new record's own system already (``ledger.duplicates``)."""


def probe_of(complaint: Complaint, secret: bytes, now: datetime) -> Probe:
    """The probe of a complaint; its time is when it was made, else ``now``."""
    title, content = _indexable(complaint)
    text = normalise(content)
    if len(text) < 40:  # a short body says little: the title helps tell complaints apart
        text = f"{normalise(title)} {text}".strip()
    at = complaint.created_at or now
    return Probe(
        text=text,
        text_hash=text_hash(text),
        bands=tuple(band_keys(text)),
        reporters=tuple(reporter_keys(complaint, secret)),
        at=at if at.tzinfo else at.replace(tzinfo=UTC),
        region=_lower(complaint.location.regency or complaint.location.province),
        category=_lower(complaint.category),
    )


def _indexable(complaint: Complaint) -> tuple[str, str]:
    """Title and text as the index may keep them.

    An *anonim* complaint's text is indexed scrubbed (``scrub_identity``, as it leaves
    the source), whatever the route's ``[routes.privacy]`` says: the ledger must not hold
    the name, NIK, phone or e-mail its reporter typed. Two copies scrub alike, so they
    still match.
    """
    if not complaint.is_anonymous:
        return complaint.title, complaint.content
    names = (complaint.reporter.name,)
    return scrub_identity(complaint.title, names), scrub_identity(complaint.content, names)


def evidence(probe: Probe, other: Indexed, *, confirmed: bool = False) -> Evidence:
    """The evidence that ``probe`` duplicates ``other``."""
    places = [(a, b) for a, b in ((probe.region, other.region), (probe.category, other.category))]
    known = [(a, b) for a, b in places if a is not None and b is not None]
    at = other.at if other.at.tzinfo else other.at.replace(tzinfo=UTC)
    return Evidence(
        ref=other.ref,
        score=fuzz.ratio(probe.text, other.text),
        exact=probe.text_hash == other.text_hash,
        length=len(probe.text),
        shared_keys=other.reporters,
        days_apart=abs((probe.at - at).total_seconds()) / 86400,
        same_place=all(a == b for a, b in known) if known else None,
        confirmed=confirmed,
        same_system=other.own,
    )


def _lower(value: str | None) -> str | None:
    return value.strip().lower() or None if value else None
