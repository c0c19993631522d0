"""Open311 → LAPOR! over real HTTP on loopback, with the real config, connectors and ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.model import make_ref
from bridge.testing.simulators import lapor, open311
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.open311_state import Open311State
from bridge.testing.simulators.server import serve_in_thread
from tests.e2e.open311_door import Door, write_open311_config
from tests.simulated import hub_by_ref

pytestmark = pytest.mark.e2e


@dataclass
class Sims:
    hub_state: LaporState
    door: Door

    def states(self, refs: list[str]) -> dict[str, Any]:
        with self.door.ledger() as ledger:
            return ledger.statuses.of(refs)

    def hub_by_ref(self) -> dict[str, list[dict[str, Any]]]:
        return hub_by_ref(self.hub_state.complaints.values())


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[Sims]:
    hub_state, door_state = LaporState(), Open311State()
    door_state.seed(20, load_corpus(limit=20))
    with (
        serve_in_thread(lapor.create_app(hub_state)) as hub,
        serve_in_thread(open311.create_app(door_state)) as door,
    ):
        path = write_open311_config(tmp_path, hub.url, door.url)
        yield Sims(hub_state, Door(door_state, path))


def test_every_request_reaches_lapor_exactly_once(sims: Sims) -> None:
    """20 Open311 requests → 20 LAPOR! complaints, one each; a second cycle creates nothing."""
    first = sims.door.sync()
    second = sims.door.sync()
    assert first.ok, first.error
    assert second.ok and second.counts.get("create", 0) == 0
    by_ref = sims.hub_by_ref()
    refs = {make_ref("open311", rid): rid for rid in sims.door.state.requests}
    assert set(by_ref) == set(refs)
    assert all(len(copies) == 1 for copies in by_ref.values())
    for ref, request_id in refs.items():
        [hub] = by_ref[ref]
        request = sims.door.state.requests[request_id]
        assert hub["title"] == request["service_name"]
        # The text, then the request's own date and status (lapor.toml's unsent_note).
        text, note = hub["content"].rsplit("\n\n", 1)
        assert text == request["description"]
        assert note.startswith("Tanggal pengaduan asli: ") and "; status di open311: " in note
    assert first.counts["create"] == 20


def test_a_request_closed_afterwards_is_noted_in_the_ledger(sims: Sims) -> None:
    """Closing a request in Open311 records `closed` for its complaint on the next cycle."""
    assert sims.door.sync().ok
    request_id = next(iter(sims.door.state.requests))
    ref = make_ref("open311", request_id)
    assert sims.states([ref])[ref].status == "new"
    sims.door.state.close(request_id, "Jalan sudah diperbaiki")
    report = sims.door.sync()
    assert report.ok, report.error
    assert report.counts.get("create", 0) == 0
    assert sims.states([ref])[ref].status == "closed"
