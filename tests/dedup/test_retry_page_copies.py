"""Records released together by a person's decisions are not lost to each other.

A person answers `not-duplicate` for several held records at once; the next cycle fetches
them again on one retry page. When two of them are alike, the second must wait for the
first (it is compared with it once the first is indexed), not leave the quarantine with
nothing sent: its source lists by cursor, and the cursor passed it long ago.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bridge.dedup import DedupRules
from bridge.ledger import Ledger
from bridge.ledger.duplicates import NOT_DUPLICATE, REVIEW
from bridge.sync import Route, run_cycle
from tests.engine.conftest import cursor_mapping, door_of, door_record, hub_of, make_route

__all__ = ["cursor_mapping"]  # a fixture: imported to be found by name

TEMPLATE = (
    "Yth. BPJS Kesehatan, kartu peserta atas nama keluarga kami di Banjar {banjar} tidak "
    "aktif padahal iuran sudah dibayar tiap bulan lewat bank sejak Januari, mohon segera "
    "diaktifkan kembali karena anak kami harus berobat ke puskesmas minggu ini."
)


def _record(i: int, banjar: str, stamp: str) -> dict[str, object]:
    return door_record(
        i,
        topik="Kartu BPJS tidak aktif",
        uraian=TEMPLATE.format(banjar=banjar),
        pelapor=f"Warga {i}",
        nik=f"510301120190{i:04d}",
        telp=f"0813{i:08d}",
        email=f"warga{i}@contoh.id",
        updated_at=stamp,
    )


def _route(ledger: Ledger, cursor_mapping: Path) -> Route:
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    return replace(route, duplicates=DedupRules(), reporter_secret=b"ledger-key")


def _decide_all_open(ledger: Ledger) -> int:
    held = [p for p in ledger.duplicates.pairs(None) if p.decision == REVIEW]
    for pair in held:
        ledger.duplicates.decide(pair.id, NOT_DUPLICATE, "test")
    return len(held)


def test_two_alike_records_released_together_are_both_delivered(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """First cycle: record 1 created; 2 and 3 (the same template, other reporters) held for
    a person. Both answered not-duplicate: the retry page creates 2 and keeps 3 waiting
    (held again, now beside 2); answered again, 3 is created. All three arrive, once."""
    route = _route(ledger, cursor_mapping)
    door = door_of(route)
    door.put(_record(1, "Kaja", "2026-03-01T10:00:00+00:00"))
    assert run_cycle(route).counts.get("create") == 1
    door.put(_record(2, "Kelod", "2026-03-02T10:00:00+00:00"))
    door.put(_record(3, "Tengah", "2026-03-02T10:00:01+00:00"))
    held = run_cycle(route)
    assert held.ok and held.counts.get("set_aside") == 2, held.counts
    # Later complaints move the cursor on: 2 and 3 are not listed again.
    door.put(door_record(4, updated_at="2026-03-09T10:00:00+00:00", telp="0819", nik=None))
    assert run_cycle(route).counts.get("create") == 1
    assert _decide_all_open(ledger) == 2
    for _ in range(4):  # each cycle: the retries, then any pair held anew is answered
        report = run_cycle(route)
        assert report.ok, report.error
        _decide_all_open(ledger)
    texts = [r["content"] for r in hub_of(route).records() if r["title"].startswith("Kartu")]
    delivered = [b for t in texts for b in ("Kaja", "Kelod", "Tengah") if f"Banjar {b} " in t]
    assert sorted(delivered) == ["Kaja", "Kelod", "Tengah"]
    assert ledger.quarantine.listed("door-to-hub") == []
