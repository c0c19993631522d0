"""The Open311 corpus end to end: simulator → open311 connector → engine → LAPOR! simulator."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.testing.simulators import open311
from bridge.testing.simulators.open311_state import Open311State
from bridge.testing.simulators.server import serve_in_thread
from tests.e2e.open311_door import ROUTE, Door, write_open311_config
from tests.hostile.conftest import Pair
from tests.hostile.corpus import assert_two_cycles, delivered_by_ref, load

pytestmark = pytest.mark.e2e

CORPUS = load("open311")
NAME = "Ketut Darma"
WINDOW = """\
# One window from the corpus's dates to now: a handful of requests, not a year of calls.
start_date = "2026-01-01T00:00:00+08:00"
window_days = 3650
"""


@pytest.fixture
def door(pair: Pair, tmp_path: Path) -> Iterator[Door]:
    state = Open311State()
    directory = tmp_path / "open311"  # the pair's own bridge.toml and bridge.db are in tmp_path
    directory.mkdir()
    with serve_in_thread(open311.create_app(state)) as server:
        yield Door(state, write_open311_config(directory, pair.hub.url, server.url, WINDOW))


def seed(door: Door) -> None:
    for record in CORPUS.records(CORPUS.where("sim")):
        door.state.insert_raw(dict(record))


def test_every_hostile_open311_request_is_set_aside_or_normalised(pair: Pair, door: Door) -> None:
    """Each corpus entry meets its fate; the good ones land in LAPOR! once; nothing crashes."""
    entries = CORPUS.where("sim")
    seed(door)
    # The reporter's name is checked on its own below (a known leak); the rest is checked here.
    corpus = dataclasses.replace(CORPUS, personal=tuple(p for p in CORPUS.personal if p != NAME))

    first = door.sync()
    second = door.sync()

    delivered = delivered_by_ref(pair.hub_copies())
    with door.ledger() as ledger:
        assert_two_cycles(
            corpus,
            entries,
            first,
            second,
            ledger=ledger,
            route=ROUTE,
            delivered=delivered,
            source_system="open311",
        )
    expected = len(CORPUS.good) + sum(e.kind == "normalised" for e in entries)
    assert len(pair.hub_state.complaints) == expected


def test_a_set_aside_requests_contact_name_is_masked(pair: Pair, door: Door) -> None:
    """The quarantine's copy of a request never holds the citizen's first_name in clear."""
    seed(door)
    assert door.sync().ok
    with door.ledger() as ledger:
        stored = [q.record_json for q in ledger.quarantine.listed(ROUTE)]
    assert stored
    assert not [record for record in stored if NAME in record]
