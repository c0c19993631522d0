"""Identity across systems: a complaint's natural key and a follow-up's fingerprint.

Both compare what two systems hold for the same thing, so both normalise away what
systems change on their own (spacing, letter case, HTML line breaks, time zones) and
leave out what the bridge's own copies differ in (author, posting time, native ids).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from operator import attrgetter
from typing import Any

from bridge.model import Complaint, FollowUp

# A tag-shaped token such as <br>, <br />, <p class="x">, </div>; "a < b > c" is left alone.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def key_part(value: Any) -> str:
    """One natural-key value as text that compares equal across systems."""
    if isinstance(value, datetime):
        # Canonical times are aware; the same instant read in WIB and in WITA must match.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        value = value.value
    return " ".join(str(value).split()).casefold()


class NaturalKey:
    """The canonical fields that identify a complaint when the bridge's reference is absent."""

    __slots__ = ("_getters", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._getters: tuple[Callable[[Any], Any], ...] = tuple(attrgetter(n) for n in names)

    def of(self, complaint: Complaint) -> tuple[str, ...] | None:
        """The normalised key, or None when a part is missing (or no key is declared)."""
        if not self._getters:
            return None  # an empty key would match every complaint
        values = [getter(complaint) for getter in self._getters]
        if any(_missing(value) for value in values):
            return None
        return tuple(key_part(value) for value in values)


def comparable_text(text: str) -> str:
    """Follow-up text as two systems both hold it: tags become breaks, whitespace collapsed."""
    # Systems store line breaks as "\n", "\r\n" or "<br />", and some escape "&"; after
    # this, only the words and their order remain. Case is kept: it is the author's.
    return " ".join(html.unescape(_TAG.sub("\n", text)).split())


def followup_fingerprint(followup: FollowUp) -> str:
    """A digest of what a follow-up says and carries, equal for the bridge's copies of it.

    The author, institution and time are left out: a copy written by the bridge carries
    the bridge's account and its own posting time.
    """
    names = sorted(attachment.filename.strip() for attachment in followup.attachments)
    payload = json.dumps([comparable_text(followup.content), names], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
