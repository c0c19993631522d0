"""Removing a reporter's identity from free text and file names (*anonim* complaints).

Citizens who ask for anonymity still write "Saya Budi Santoso, NIK 3171 0123 4567 8901,
HP 0812-3456-7890" into the complaint and attach ``KTP_Budi_3171012345678901.jpg``. What
leaves the bridge for such a complaint has the reporter's own name (in any case and
spacing, whole or word by word), every NIK-, phone- and e-mail-shaped value, and a name
introduced as one ("nama saya …", "saya bernama …") replaced by ``MARKER``.

Over-scrubbing is the safe error here: a word of the text equal to a part of the
reporter's name is masked too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

MARKER = "[identitas disamarkan]"
FILE_MARKER = "disamarkan"  # a file name keeps no brackets or spaces

# Digits may be grouped by spaces, dots or hyphens: "3171 0123 4567 8901", "0812.3456.7890".
NIK_SHAPE = re.compile(r"(?<!\d)\d(?:[ .\-]?\d){15}(?!\d)")
PHONE_SHAPE = re.compile(r"(?<![\w+])(?:\+62[ .\-]?|62[ .\-]?|0)8\d?(?:[ .\-]?\d){6,11}(?!\d)")
EMAIL_SHAPE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# "nama saya Budi Santoso", "saya bernama Budi", "atas nama Budi": up to four capitalised words.
INTRODUCED_NAME = re.compile(
    r"(?i:\b(?:nama\s+saya|saya\s+bernama|atas\s+nama|nama\s*:)\s+)"
    r"((?:[A-Z][\w'-]*)(?:\s+[A-Z][\w'-]*){0,3})"
)
_MIN_NAME_PART = 3  # "Al", "M." alone would mask half of every text
# The fewest digits a match holds: a NIK has 16; a phone "08" and at least 6 more.
_NIK_DIGITS = 16
_PHONE_DIGITS = 8
_ASCII_DIGITS = b"0123456789"


def scrub_identity(text: str, names: Iterable[str | None] = (), *, marker: str = MARKER) -> str:
    """``text`` with the reporter's ``names`` and any NIK, phone or e-mail as ``marker``."""
    if not text:
        return text
    if "@" in text:  # every e-mail has one
        text = EMAIL_SHAPE.sub(marker, text)
    digits = _ascii_digits(text)
    if digits is None or digits >= _NIK_DIGITS:
        text = NIK_SHAPE.sub(marker, text)
    if digits is None or digits >= _PHONE_DIGITS:  # a NIK masked above only lowers the count
        text = PHONE_SHAPE.sub(marker, text)
    if _may_hold(text, ("nama",)):  # every introduction says "nama" ("bernama" too)
        text = INTRODUCED_NAME.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + marker, text)
    names = tuple(names)
    words = [w for name in names for w in _words(name)]
    if not _may_hold(text, words):
        return text  # a name (whole or a part) matches only where one of its words is
    pattern = _name_pattern(names)
    return pattern.sub(marker, text) if pattern is not None else text


def _may_hold(text: str, words: Iterable[str]) -> bool:
    """False only when none of ``words`` can match in ``text``, in any case.

    Decided by lower-casing only when both are ASCII: Unicode case-insensitive matching
    has exceptions (the Kelvin sign matches "k", the long s "s"). Saves the regex passes
    (and the compiling of a name's pattern) that most texts would run for nothing.
    """
    words = list(words)
    if not text.isascii() or not all(w.isascii() for w in words):
        return True
    lowered = text.lower()
    return any(w.lower() in lowered for w in words)


def _ascii_digits(text: str) -> int | None:
    """How many digits ``text`` holds, told cheaply only for ASCII text (None otherwise).

    Most texts hold too few digits for a NIK or a phone number: counting them (in C) saves
    those two regex passes, which try every position of the text. Only for ASCII, where
    ``\\d`` means 0-9; other scripts have their own digits, so the regexes decide there.
    """
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    return len(raw) - len(raw.translate(None, _ASCII_DIGITS))


def scrub_file_name(name: str, names: Iterable[str | None] = ()) -> str:
    """An attachment's file name with the reporter's identity removed, extension kept."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, dot, extension = name, "", ""
    # In a file name "_" and "-" separate words: "KTP_Budi_Santoso".
    spaced = re.sub(r"[_\-]+", " ", stem)
    scrubbed = scrub_identity(spaced, names, marker=FILE_MARKER)
    if scrubbed == spaced:
        return name
    return "_".join(scrubbed.split()) + dot + extension


def mask_names(text: str, names: Iterable[str | None], replace: Callable[[str], str]) -> str:
    """``text`` with each of ``names`` (whole or word by word, any case) passed to ``replace``."""
    pattern = _name_pattern(names)
    return pattern.sub(lambda match: replace(match.group()), text) if pattern else text


def _words(name: str | None) -> list[str]:
    return re.findall(r"[^\W\d_]+", name or "")


def _name_pattern(names: Iterable[str | None]) -> re.Pattern[str] | None:
    parts: set[str] = set()
    wholes: list[str] = []
    for name in names:
        words = _words(name)
        if not words:
            continue
        wholes.append(r"[\s._-]*".join(re.escape(word) for word in words))
        parts.update(word for word in words if len(word) >= _MIN_NAME_PART)
    if not wholes:
        return None
    # The whole name first (so it becomes one marker), then each part alone.
    alternatives = sorted(wholes, key=len, reverse=True) + sorted(
        (re.escape(part) for part in parts), key=len, reverse=True
    )
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])", re.IGNORECASE)
