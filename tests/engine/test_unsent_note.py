"""Door → LAPOR!: the original date and local status reach LAPOR!'s text (unsent_note)."""

from __future__ import annotations

from bridge.ledger import Ledger
from bridge.sync import run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route


def test_end_to_end_the_hub_copy_carries_the_note_once(
    ledger: Ledger,
) -> None:
    """Door → hub with lapor.toml: the created copy's text ends with the door's date and status."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    first, second = run_cycle(route), run_cycle(route)
    assert first.ok and first.counts["create"] == 1 and second.counts == {"skip": 1}
    [created] = hub_of(route).records()
    content = str(created["content"])
    # door_record: tanggal 2026-03-01 10:00 WITA (the door's zone) is 09:00 WIB; "Menunggu".
    line = "Tanggal pengaduan asli: 01-03-2026 09:00 WIB; status di door: Menunggu"
    assert content.endswith(f"\n\n{line}")
    assert content.count("Tanggal pengaduan asli") == 1
