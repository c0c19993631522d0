"""Whose complaint: what a backfill compares before adopting a record by its text alone.

Two citizens may file the same words ("Jalan rusak di depan pasar"), and one of them
may have asked for anonim or rahasia. Adopting the other's record would copy that
citizen's follow-ups home, and a rahasia complaint's text with them. So a natural-key
candidate is adopted only when the privacy flags are the same and no part of the
reporter's identity known on both sides differs; otherwise a person decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.model import Complaint, Reporter

__all__ = ["Who", "conflict", "who_of"]


@dataclass(frozen=True)
class Who:
    """A complaint's privacy flags and its reporter's identity, normalised for comparison."""

    is_anonymous: bool
    is_secret: bool
    identity: tuple[tuple[str, str], ...]
    """(what, normalised value) of each part the record carries: nik, phone, email, name."""


def who_of(complaint: Complaint) -> Who:
    """The privacy flags and reporter identity of ``complaint``."""
    return Who(complaint.is_anonymous, complaint.is_secret, _identity(complaint.reporter))


def conflict(ours: Who, theirs: Who) -> str | None:
    """Why a same-text record is not this complaint's copy, or None when nothing says so."""
    if (ours.is_anonymous, ours.is_secret) != (theirs.is_anonymous, theirs.is_secret):
        return (
            "a record with the same text holds other privacy flags (anonim/rahasia): not "
            "linked automatically, as it may be another citizen's complaint. Compare both by "
            "hand; `bridge quarantine retry` then creates this one as a new complaint"
        )
    known = dict(theirs.identity)
    differing = [what for what, value in ours.identity if known.get(what, value) != value]
    if differing:
        return (
            f"a record with the same text names another reporter ({', '.join(differing)} "
            "differ): not linked automatically, as it is another citizen's complaint. "
            "`bridge quarantine retry` creates this one as a new complaint"
        )
    return None


def _identity(reporter: Reporter) -> tuple[tuple[str, str], ...]:
    parts = {
        "nik": _digits(reporter.nik),
        "phone": _phone(reporter.phone),
        "email": (reporter.email or "").strip().lower(),
        "name": " ".join((reporter.name or "").casefold().split()),
    }
    return tuple((what, value) for what, value in parts.items() if value)


def _digits(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def _phone(value: str | None) -> str:
    digits = _digits(value)
    # +62 812…, 62812…, 0812…: one number.
    return "0" + digits[2:] if digits.startswith("62") else digits
