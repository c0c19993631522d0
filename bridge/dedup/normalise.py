"""Indonesian complaint text → a normal form two copies of one complaint share.

Lower case, HTML and punctuation gone, elongated words shortened ("tolooong" →
"tolong"), SMS abbreviations and slang spelled out (``bridge.dedup.lexicon``), and
boilerplate phrases (salutations, closing formulas) and addressee lines ("Yth. Dinas
…,") dropped: they are shared by unrelated complaints and would make them look alike.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from bridge.dedup.lexicon import BOILERPLATE, SLANG

_TAG = re.compile(r"<[^>]*>")
# "Yth. Dinas Kependudukan dan Pencatatan Sipil," up to the first comma or line break:
# the addressee, which LAPOR! writes in front of the complaint itself.
_ADDRESSEE = re.compile(r"(?:^|\n)\s*(?:kepada\s+)?(?:kpd\.?\s+)?yth\.?[^,\n]{0,120}[,\n]", re.I)
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
_BOILERPLATE = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in sorted(BOILERPLATE, key=len, reverse=True)) + r")\b"
)


def normalise(text: str) -> str:
    """The normal form of a complaint's text (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = _TAG.sub("\n", text)
    text = _ADDRESSEE.sub("\n", text)
    text = _NOT_WORD.sub(" ", text.lower())
    text = _ELONGATED.sub(r"\1", text)
    words = " ".join(SLANG.get(word, word) for word in text.split())
    return " ".join(_BOILERPLATE.sub(" ", words).split())


def text_hash(normal: str) -> str:
    """The exact pre-check's key: a hash of the normal form (verbatim re-posts share it)."""
    return hashlib.blake2b(normal.encode(), digest_size=16).hexdigest()
