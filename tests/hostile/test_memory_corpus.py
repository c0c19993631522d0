"""The memory corpus: the reference connector, the real engine, a memory 'LAPOR!'."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.model import make_ref
from bridge.sync import Route, run_cycle
from tests.conftest import MAPPINGS
from tests.hostile.conftest import delivered
from tests.hostile.corpus import assert_two_cycles, load

CORPUS = load("memory")
ROUTE = "door-to-hub"


@pytest.fixture
def route(tmp_path: Path) -> Iterator[Route]:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        yield Route(
            name=ROUTE,
            source=MemoryConnector(
                "door", MemorySettings(type="memory", store="door", page_size=5)
            ),
            target=MemoryConnector("hub", MemorySettings(type="memory", store="hub")),
            source_mapping=load_mapping(MAPPINGS / "sidumas.toml"),
            target_mapping=load_mapping(MAPPINGS / "lapor.toml"),
            ledger=ledger,
        )


def door(route: Route) -> MemoryConnector:
    assert isinstance(route.source, MemoryConnector)
    return route.source


def test_every_hostile_memory_record_is_set_aside_or_normalised(route: Route) -> None:
    """Each entry meets its fate over two cycles; good records arrive once; nothing crashes."""
    for record in CORPUS.records(CORPUS.entries):
        door(route).put(record)

    first = run_cycle(route)
    second = run_cycle(route)

    assert_two_cycles(
        CORPUS,
        CORPUS.entries,
        first,
        second,
        ledger=route.ledger,
        route=ROUTE,
        delivered=delivered(route),
        source_system="door",
    )
    # The cursor is the newest time the mapping could read: 9999-99-99 never moved it.
    cursor = route.ledger.cycles.cursor(ROUTE, "door")
    assert cursor is not None and cursor.startswith("2026-03-01T")


def test_a_change_time_going_backwards_moves_nothing_back_and_doubles_nothing(route: Route) -> None:
    """A record re-stamped earlier (a clock set back) is a change of the same complaint."""
    good = dict(CORPUS.good[0])
    door(route).put(good)
    assert run_cycle(route).counts["create"] == 1
    before = route.ledger.cycles.cursor(ROUTE, "door")
    assert before is not None

    earlier = datetime.fromisoformat(good["updated_at"]) - timedelta(minutes=5)
    door(route).put({**good, "uraian": "Sudah diperbarui.", "updated_at": earlier.isoformat()})
    new = {**CORPUS.good[1], "id": 77, "updated_at": (earlier + timedelta(minutes=1)).isoformat()}
    door(route).put(new)
    report = run_cycle(route)

    assert report.ok, report.error
    assert report.counts["create"] == 1 and report.counts["change"] == 1
    after = route.ledger.cycles.cursor(ROUTE, "door")
    assert after is not None
    assert datetime.fromisoformat(after) >= datetime.fromisoformat(before)
    copies = delivered(route)
    assert len(copies[make_ref("door", str(good["id"]))]) == 1
    assert len(copies[make_ref("door", "77")]) == 1
