"""anonim and the duplicate index: the ledger keeps no identity the reporter typed, and
anonim copies of one complaint are still found."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bridge.dedup import DedupRules
from bridge.ledger import Ledger
from bridge.ledger.tables import DUP_ENTRY, DUP_KEY, DUP_PAIR, EVENT
from bridge.sync import Route, run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route

TEXT = (
    "Saya Made Wirawan, NIK 5103 0112 0190 0001, HP 0812-3456-7890, surel made.w@contoh.id. "
    "Lampu penerangan jalan di Gang Melati tiga sudah mati dua minggu, gelap dan rawan "
    "begal setiap malam."
)
SPELLINGS = ("made", "wirawan", "5103", "0112", "0812", "3456", "contoh.id")


def _route(ledger: Ledger) -> Route:
    return replace(make_route(ledger), duplicates=DedupRules(), reporter_secret=b"ledger-key")


def _indexed_text(ledger: Ledger) -> str:
    """Every text the duplicate index and the history hold, as one lower-case string."""
    with ledger.db.read() as session:
        rows = [
            *session.execute(select(DUP_ENTRY)),
            *session.execute(select(DUP_KEY)),
            *session.execute(select(DUP_PAIR)),
            *session.execute(select(EVENT.c.detail)),
        ]
    return " ".join(repr(tuple(row)) for row in rows).lower()


def test_an_anonim_complaint_is_indexed_without_the_identity_it_typed(ledger: Ledger) -> None:
    """Name, NIK, phone and e-mail typed into an anonim complaint reach no dup table; a
    second anonim copy is still found as an exact copy of the first (same scrubbed text;
    held for a person, as both came through one door)."""
    route = _route(ledger)
    door_of(route).put(door_record(1, uraian=TEXT, hide_identitas=1))
    first = run_cycle(route)
    assert first.ok and first.counts.get("create") == 1, first.error
    door_of(route).put(door_record(2, uraian=TEXT, hide_identitas=1, topik="Lampu mati"))
    second = run_cycle(route)
    assert second.ok and second.counts.get("set_aside") == 1, (second.error, second.counts)
    assert len(hub_of(route).records()) == 1
    [pair] = ledger.duplicates.pairs(None)
    assert pair.evidence["exact"] is True and "lampu penerangan jalan" in pair.text
    held = _indexed_text(ledger)
    assert "lampu penerangan jalan" in held  # the index does hold the (scrubbed) text
    for spelling in SPELLINGS:
        assert spelling not in held, spelling
