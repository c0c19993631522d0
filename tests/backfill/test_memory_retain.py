"""The memory connector's `retain = false`: a target that counts creates and keeps nothing."""

from __future__ import annotations

from bridge.connectors.memory import MemoryConnector, MemorySettings


def test_a_non_retaining_memory_target_counts_creates_and_keeps_no_record() -> None:
    """create returns fresh ids and counts; records, pull and find_by_ref stay empty."""
    hub = MemoryConnector("hub", MemorySettings(type="memory", retain=False))

    ids = [hub.create({"title": f"t{i}"}, [], f"lb{i:016x}") for i in range(3)]

    assert len(set(ids)) == 3 and hub.creates == 3
    assert hub.records() == [] and list(hub.pull(None)) == []
    assert hub.find_by_ref("lb0000000000000001") is None
