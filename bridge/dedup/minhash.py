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

The keys are stored in every ledger: their bytes must never change for any text
(``tests/dedup/test_minhash_oracle.py`` holds the first implementation and proves it).
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
_EMPTY = 1 << 64  # above every 64-bit hash: a bin no shingle fell in


def shingles(normal: str) -> set[int]:
    """64-bit hashes of the character 5-grams of a normalised text (the whole text if shorter)."""
    last = max(1, len(normal) - SHINGLE + 1)
    grams = set([normal[i : i + SHINGLE] for i in range(last)])  # noqa: C403 - faster
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest()) for g in grams}


def signature(hashes: set[int]) -> tuple[int, ...]:
    """The MinHash signature: one minimum per bin, empty bins densified."""
    if not hashes:
        return ()
    # Within one bin (h % HASHES) the least h has the least h // HASHES: keep the least h.
    least = [_EMPTY] * HASHES
    for h in hashes:
        index = h % HASHES
        if h < least[index]:
            least[index] = h
    # An empty bin borrows from the first bin to its right that has a minimum (round the
    # end to the start): walking leftwards, that bin is the last one passed.
    nearest = HASHES + next(index for index, h in enumerate(least) if h != _EMPTY)
    minima = [0] * HASHES
    for index in reversed(range(HASHES)):
        if least[index] != _EMPTY:
            nearest = index
        minima[index] = least[nearest % HASHES] // HASHES + (nearest - index) * _OFFSET
    return tuple(minima)


def band_keys(normal: str) -> list[str]:
    """``b<band>:<hash>`` for each band of the text's signature; none for an empty text."""
    minima = signature(shingles(normal)) if normal else ()
    rows = [minima[start : start + ROWS] for start in range(0, len(minima) - ROWS + 1, ROWS)]
    return [
        f"b{band}:{hashlib.blake2b(repr(row).encode(), digest_size=8).hexdigest()}"
        for band, row in enumerate(rows)
    ]
