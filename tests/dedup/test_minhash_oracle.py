"""The MinHash band keys are byte-identical to the first implementation's, for every text.

Every ledger stores the band keys of the complaints it indexed: a key computed differently
for the same text would make a copy miss its original. ``reference_band_keys`` below is the
first implementation, kept verbatim as the oracle; the faster one (the least hash per bin,
densification in one walk) must agree with it on generated texts and on the real corpus.
"""

from __future__ import annotations

import hashlib
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.dedup.minhash import band_keys
from bridge.dedup.normalise import normalise
from bridge.testing.simulators.corpus import SAMPLE_PATH, corpus_candidates, load_corpus

# --- the oracle: bridge/dedup/minhash.py as first written (cc28270), not to be optimised ---
SHINGLE, BANDS, ROWS = 5, 20, 3
HASHES = BANDS * ROWS
_OFFSET = 1 << 60


def reference_gram_hash(gram: str) -> int:
    return int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest())


def reference_shingles(normal: str) -> set[int]:
    grams = {normal[i : i + SHINGLE] for i in range(max(1, len(normal) - SHINGLE + 1))}
    return {reference_gram_hash(g) for g in grams}


def reference_signature(hashes: set[int]) -> tuple[int, ...]:
    if not hashes:
        return ()
    bins: list[int | None] = [None] * HASHES
    for h in hashes:
        index, value = h % HASHES, h // HASHES
        kept = bins[index]
        if kept is None or value < kept:
            bins[index] = value
    signature = []
    for index in range(HASHES):
        for distance in range(HASHES):
            borrowed = bins[(index + distance) % HASHES]
            if borrowed is not None:
                signature.append(borrowed + distance * _OFFSET)
                break
    return tuple(signature)


def reference_band_keys(normal: str) -> list[str]:
    minima = reference_signature(reference_shingles(normal)) if normal else ()
    keys = []
    for band in range(len(minima) // ROWS):
        rows = minima[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()
        keys.append(f"b{band}:{digest}")
    return keys


# --- texts: what normalise yields ([0-9a-z ]), and anything else band_keys may be given ---
NORMAL = st.text(alphabet=string.ascii_lowercase + string.digits + " ", max_size=300)
FEW_LETTERS = st.text(alphabet="ab ", max_size=60)  # repeated grams, few distinct ones
LONG = st.text(alphabet=string.ascii_lowercase + " ", min_size=2_000, max_size=8_000)
ANY = st.text(max_size=200)  # unicode: the str path must not assume ASCII
TEXTS = st.one_of(NORMAL, FEW_LETTERS, LONG, ANY, ANY.map(normalise))


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_band_keys_equal_the_first_implementations(text: str) -> None:
    """Generated texts (short, empty, repeated, long, unicode) get the oracle's very keys."""
    assert band_keys(text) == reference_band_keys(text)


def _corpus_texts(entries: list[tuple[str, str]]) -> list[str]:
    raw = [text for title, body in entries for text in (title, body)]
    return raw + [normalise(text) for text in raw]


def test_the_shipped_sample_keys_equal_the_first_implementations() -> None:
    """Every title and body of the simulators' own sample, raw and normalised: the oracle's keys."""
    texts = _corpus_texts([(e.title, e.body) for e in load_corpus(path=SAMPLE_PATH)])
    assert [band_keys(t) for t in texts] == [reference_band_keys(t) for t in texts]


def test_the_2017_lapor_sample_keys_equal_the_first_implementations() -> None:
    """The shared 2017 LAPOR! sample, when this machine has it: the oracle's keys, every text."""
    found = [path for path in corpus_candidates() if path.is_file()]
    if not found:
        pytest.skip("the shared 2017 LAPOR! sample is not on this machine")
    texts = _corpus_texts([(e.title, e.body) for e in load_corpus(path=Path(found[0]))])
    assert [band_keys(t) for t in texts] == [reference_band_keys(t) for t in texts]
