"""``ledger.duplicates.candidates``: one order on every backend and plan."""

from __future__ import annotations

from bridge.dedup import probe_of
from bridge.ledger import Ledger
from tests.dedup.test_ledger_index import NOW, TEXT, complaint, indexed


def test_candidates_sharing_as_many_keys_come_newest_first(ledger: Ledger) -> None:
    """Ties on shared keys are broken by the newest entry, as the cap keeps them."""
    for n in range(1, 31):
        indexed(ledger, f"ref-{n}", complaint(str(n), TEXT))
    probe = probe_of(complaint("99", TEXT), b"k", NOW)
    found = ledger.duplicates.candidates(probe, system="door-b", cap=15)
    assert [c.ref for c in found] == [f"ref-{n}" for n in range(30, 15, -1)]
