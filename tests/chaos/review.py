"""With the duplicate check on (``--duplicates``), a person works through the review queue.

The chaos run seeds distinct filings: a pair held for review is two complaints that look
alike (templated forms, such as BPJS's "permintaan informasi penghitungan denda … atas
nama X nomor kartu Y", differ only in a name and a number). At the end of the run a person
says ``not-duplicate`` to each, as ``bridge review not-duplicate`` does, and each held record
must then be delivered exactly once like every other: waiting for a person lost nothing.
"""

from __future__ import annotations

from bridge.ledger import Ledger
from bridge.ledger.duplicates import NOT_DUPLICATE, REVIEW


def review_all(ledger_url: str) -> int:
    """Decide every pair waiting for a person as not a duplicate; how many there were."""
    with Ledger.open(ledger_url) as ledger:
        waiting = ledger.duplicates.pairs(REVIEW)
        for pair in waiting:
            ledger.duplicates.decide(pair.id, NOT_DUPLICATE, "chaos run")
    return len(waiting)
