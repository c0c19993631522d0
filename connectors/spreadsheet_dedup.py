"""Which rows of a pull a later row replaces, in one bit a row however large the files.

A record id seen in several files (or twice in one) is taken from its last row in pull
order; ``superseded_rows`` marks every earlier one, reading the ids once, sorted in runs.
"""

from __future__ import annotations

import hashlib
import heapq
import os
from array import array
from collections.abc import Iterable, Iterator

RUN_ROWS = 1 << 14
"""Ids hashed and sorted at a time by ``superseded_rows`` (at most 65,536: 2-byte positions)."""


class Superseded:
    """Row ordinals (0, 1, … over the rows with an id, in pull order) that a later row replaces.

    A bitmap: one bit per row (125 kB for a million rows).
    """

    def __init__(self, rows: int) -> None:
        self._bits = bytearray((rows + 7) // 8)
        self.count = 0

    def add(self, ordinal: int) -> None:
        self._bits[ordinal >> 3] |= 1 << (ordinal & 7)
        self.count += 1

    def __contains__(self, ordinal: object) -> bool:
        if not isinstance(ordinal, int) or not 0 <= ordinal < len(self._bits) * 8:
            return False
        return bool(self._bits[ordinal >> 3] >> (ordinal & 7) & 1)


def superseded_rows(ids: Iterable[str], *, run_rows: int = RUN_ROWS) -> Superseded:
    """Which of ``ids`` (in pull order) a later occurrence of the same id replaces.

    Memory, per row: each id becomes an 8-byte keyed BLAKE2b digest plus its 2-byte
    position in its run of ``run_rows``; each run is sorted as it fills (its Python ints,
    under 1 MB for 16,384 rows, are the only other cost) and kept as two ``array``s:
    10 bytes a row (10 MB for a million rows) while this runs, none afterwards. The
    sorted runs are then merged: equal digests come together, in pull order, and every
    one but the last is superseded. The result costs one bit a row.

    Two different ids with the same digest would hide the earlier row. The odds are
    about rows² / 2⁶⁵ (3 in 100 million for a million rows), and the key is new each
    call, so such a row would come back on the next pull.
    """
    if not 1 <= run_rows <= 1 << 16:
        raise ValueError("run_rows must be between 1 and 65,536 (positions are 2 bytes)")
    key = os.urandom(16)
    runs: list[tuple[array[int], array[int]]] = []
    pending: list[int] = []
    for source_id in ids:
        digest = hashlib.blake2b(source_id.encode("utf-8"), digest_size=8, key=key).digest()
        pending.append(int.from_bytes(digest, "big") << 16 | len(pending))
        if len(pending) == run_rows:
            runs.append(_sorted_run(pending))
            pending = []
    if pending:
        runs.append(_sorted_run(pending))
    result = Superseded(sum(len(digests) for digests, _ in runs))
    merged = heapq.merge(*(_run_entries(run, i * run_rows) for i, run in enumerate(runs)))
    previous = None
    for entry in merged:  # digest << 32 | ordinal, ascending
        if previous is not None and previous >> 32 == entry >> 32:
            result.add(previous & 0xFFFF_FFFF)  # the same id again, further on
        previous = entry
    return result


def _sorted_run(pending: list[int]) -> tuple[array[int], array[int]]:
    """One run of ``digest << 16 | position`` values, sorted, as digests and positions."""
    pending.sort()
    return array("Q", (v >> 16 for v in pending)), array("H", (v & 0xFFFF for v in pending))


def _run_entries(run: tuple[array[int], array[int]], first: int) -> Iterator[int]:
    """A sorted run's rows as ``digest << 32 | ordinal``, ordinals counted from ``first``.

    Ordinals take 32 bits: four billion rows, far beyond what a spreadsheet export holds.
    """
    digests, positions = run
    for digest, position in zip(digests, positions, strict=True):
        yield digest << 32 | (first + position)
