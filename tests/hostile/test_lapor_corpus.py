"""The LAPOR! corpus end to end: LAPOR! → lapor connector → engine → SIDUMAS.

Complaints the LAPOR! simulator can hold go over loopback HTTP into the SIDUMAS simulator.
The ones it cannot even store or list (``"via": "http"`` in the corpus) are served through
respx at the connector level, into a memory target read with the SIDUMAS mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.model import make_ref
from bridge.sync import Route, run_cycle
from bridge.testing.simulators._common import WIB
from tests.hostile.conftest import (
    FROM_LAPOR,
    LAPOR_HOST,
    Pair,
    delivered,
    lapor_listing,
    lapor_other,
    respx_lapor,
    respx_route,
)
from tests.hostile.corpus import assert_two_cycles, delivered_by_ref, load

pytestmark = pytest.mark.e2e

CORPUS = load("lapor")
ROUTE = "lapor-to-door"


def test_hostile_complaints_the_simulator_holds_are_set_aside_or_normalised(pair: Pair) -> None:
    """Over loopback: each entry meets its fate, good ones land in SIDUMAS once, no crash."""
    entries = CORPUS.where("sim")
    for record in CORPUS.records(entries):
        pair.hub_state.insert_raw(dict(record))

    first = pair.sync(FROM_LAPOR)
    second = pair.sync(FROM_LAPOR)

    copies = delivered_by_ref(pair.door_copies())
    with pair.ledger() as ledger:
        assert_two_cycles(
            CORPUS,
            entries,
            first,
            second,
            ledger=ledger,
            route=FROM_LAPOR,
            delivered=copies,
            source_system="lapor",
        )
        cursor = ledger.cycles.cursor(FROM_LAPOR, "lapor")
    # The cursor is the newest *readable* time of a delivered page: year 0002 never moved it.
    assert cursor is not None and cursor.startswith("2026-03-01T09:0")


def test_a_change_time_going_backwards_moves_nothing_back_and_doubles_nothing(pair: Pair) -> None:
    """A complaint re-stamped earlier (a clock set back) is a change, not a new complaint."""
    now = datetime.now(WIB).replace(microsecond=0)
    first_stamp = now - timedelta(hours=1)
    good = dict(CORPUS.good[0], updated_at=first_stamp.isoformat())
    pair.hub_state.insert_raw(good)
    assert pair.sync(FROM_LAPOR).counts["create"] == 1
    with pair.ledger() as ledger:
        before = ledger.cycles.cursor(FROM_LAPOR, "lapor")

    # Five minutes back (inside the ten-minute look-back): the same complaint, edited, and a
    # new complaint stamped between them by the same wrong clock.
    earlier = (first_stamp - timedelta(minutes=5)).isoformat()
    pair.hub_state.insert_raw({**good, "content": "Sudah diperbarui.", "updated_at": earlier})
    between = (first_stamp - timedelta(minutes=3)).isoformat()
    pair.hub_state.insert_raw(dict(CORPUS.good[1], id=77, updated_at=between))
    report = pair.sync(FROM_LAPOR)

    assert report.ok, report.error
    assert report.counts["create"] == 1  # the new one only
    with pair.ledger() as ledger:
        after = ledger.cycles.cursor(FROM_LAPOR, "lapor")
    assert before is not None and after is not None
    assert datetime.fromisoformat(after) >= datetime.fromisoformat(before)
    copies = delivered_by_ref(pair.door_copies())
    assert len(copies[make_ref("lapor", str(good["id"]))]) == 1
    assert len(copies[make_ref("lapor", "77")]) == 1


# -- served at the connector level: records the simulator cannot hold -------------------------


def _serve(records: list[dict[str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    """A fake LAPOR! that lists ``records`` as they are and answers details and follow-ups."""

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/complaints"):
            return httpx.Response(200, json=lapor_listing(records))
        return httpx.Response(200, json=lapor_other(request, records))

    return respond


@pytest.fixture
def served_route(tmp_path: Path) -> Iterator[tuple[Route, list[dict[str, Any]]]]:
    """LAPOR! (respx) → a memory door read and written with the SIDUMAS mapping."""
    served: list[dict[str, Any]] = []
    mappings = ("lapor.toml", "sidumas.toml")
    with respx_route(ROUTE, LAPOR_HOST, respx_lapor, _serve(served), mappings, tmp_path) as route:
        yield route, served


def test_hostile_complaints_served_over_http_are_set_aside_or_normalised(
    served_route: tuple[Route, list[dict[str, Any]]],
) -> None:
    """Shapes the simulator cannot hold, listed once by a fake LAPOR!: same rules, no crash."""
    route, served = served_route
    entries = CORPUS.where("http")
    served.extend(CORPUS.records(entries))

    first = run_cycle(route)
    second = run_cycle(route)

    assert_two_cycles(
        CORPUS,
        entries,
        first,
        second,
        ledger=route.ledger,
        route=ROUTE,
        delivered=delivered(route),
        source_system="lapor",
    )
