"""MinHash band keys of character shingles: the blocking step of the duplicate check.

Each text's set of character 5-grams is summarised by ``HASHES`` minima, one per
hash function; two texts agree on one minimum with probability equal to the Jaccard
similarity of their shingle sets. The minima are cut into ``BANDS`` bands of ``ROWS``:
texts sharing one whole band are candidates (locality-sensitive hashing), so with 20
bands of 3 a pair at Jaccard 0.4 is found with probability 1 - (1 - 0.4³)²⁰ ≈ 0.73 and
at 0.6 with 0.99. The keys live in an indexed ledger table, never in memory.

The minima come from one pass over the shingles (one-permutation hashing: each 64-bit
BLAKE2 hash falls in one of ``HASHES`` bins, whose minimum is kept; an empty bin borrows
its right neighbour's, "densification", Shrivastava 2017): ten times faster than
``HASHES`` hash functions in pure Python, with the same agreement probability. BLAKE2,
not ``hash()``, so keys stay comparable across processes and versions of Python.
"""

from __future__ import annotations

import hashlib

SHINGLE = 5
BANDS = 20
ROWS = 3
HASHES = BANDS * ROWS
# An empty bin's borrowed minimum is shifted per distance, so two texts agree on it only
# when they agree on the bin it was borrowed from *and* on the distance.
_OFFSET = 1 << 60


def shingles(normal: str) -> set[int]:
    """64-bit hashes of the character 5-grams of a normalised text (the whole text if shorter)."""
    grams = {normal[i : i + SHINGLE] for i in range(max(1, len(normal) - SHINGLE + 1))}
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest()) for g in grams}


def signature(hashes: set[int]) -> tuple[int, ...]:
    """The MinHash signature: one minimum per bin, empty bins densified."""
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


def band_keys(normal: str) -> list[str]:
    """``b<band>:<hash>`` for each band of the text's signature; none for an empty text."""
    minima = signature(shingles(normal)) if normal else ()
    keys = []
    for band in range(len(minima) // ROWS):
        rows = minima[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()
        keys.append(f"b{band}:{digest}")
    return keys
