"""A listed record's update time is read once, by its mapping: the cursor and the clock
watch reuse it, and a record the memo recognises is not read again at all."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.ledger import Ledger
from bridge.sync import run_cycle
from tests.engine.conftest import door_of, door_record, make_route


def test_update_times_are_read_once_per_new_record_and_never_for_a_remembered_one(
    ledger: Ledger, cursor_mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 new records on a cursor feed: 12 reads; the same records listed again: none."""
    # No re-polls: they fetch a record anew (a read of their own), not the listing's.
    route = replace(
        make_route(ledger, feed="cursor", source_mapping=cursor_mapping), repoll_budget=0
    )
    for i in range(1, 13):
        door_of(route).put(door_record(i))
    mapping = route.source_mapping
    reads: list[Any] = []
    read = mapping.native_updated_at

    def counted(record: dict[str, Any]) -> datetime | None:
        reads.append(record["id"])
        return read(record)

    monkeypatch.setattr(mapping, "native_updated_at", counted)
    first = run_cycle(route)
    assert first.ok and first.counts["create"] == 12
    assert sorted(reads, key=int) == [str(i) for i in range(1, 13)]
    assert route.memory.cursor() is not None

    reads.clear()  # the same route object: its memo remembers the records
    door_of(route).change("3", topik="Jalan berlubang, sudah dua minggu")
    second = run_cycle(route)
    assert second.ok
    assert reads == ["3"]  # the changed record, mapped again; the others remembered
