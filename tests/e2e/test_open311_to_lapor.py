"""Open311 → LAPOR! over real HTTP on loopback, with the real config, connectors and ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, mappings_dir
from bridge.engine import CycleReport, run_cycle
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.routes import build_routes, close_routes
from simulators import lapor, open311
from simulators.corpus import load_corpus
from simulators.lapor_state import LaporState
from simulators.open311_state import Open311State
from simulators.server import serve_in_thread
from tests.simulated import hub_by_ref

pytestmark = pytest.mark.e2e

SECRETS = {
    **{k: v for k, v in DEMO_SECRETS.items() if "__LAPOR__" in k},
    "BRIDGE_CONNECTORS__OPEN311__API_KEY": open311.DEMO_API_KEY,
}
ROUTE = "open311-to-lapor"
CONFIG = """\
[ledger]
url = "sqlite:///{ledger}"

[connectors.lapor]
type = "lapor"
base_url = "{lapor_url}"
auth_header = "auth"
mapping = "{mappings}/lapor.toml"

[connectors.open311]
type = "open311"
base_url = "{open311_url}/open311/v2/"
jurisdiction_id = "badungkab.go.id"
mapping = "{mappings}/open311.toml"

[[routes]]
name = "{route}"
source = "open311"
target = "lapor"
"""


@dataclass
class Sims:
    hub_state: LaporState
    door_state: Open311State
    config_path: Path

    def sync_once(self) -> CycleReport:
        config = load_config(self.config_path, environ=SECRETS)
        ledger = Ledger.open(config.ledger.url)
        routes = build_routes(config, ledger)
        try:
            return run_cycle(routes[0])
        finally:
            close_routes(routes)
            ledger.close()

    def states(self, refs: list[str]) -> dict[str, Any]:
        ledger = Ledger.open(load_config(self.config_path, environ=SECRETS).ledger.url)
        try:
            return ledger.complaint_states(refs)
        finally:
            ledger.close()

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
        path = tmp_path / "bridge.toml"
        text = CONFIG.format(
            ledger=tmp_path / "bridge.db",
            lapor_url=hub.url,
            open311_url=door.url,
            mappings=mappings_dir(),
            route=ROUTE,
        )
        path.write_text(text, encoding="utf-8")
        yield Sims(hub_state, door_state, path)


def test_every_request_reaches_lapor_exactly_once(sims: Sims) -> None:
    """20 Open311 requests → 20 LAPOR! complaints, one each; a second cycle creates nothing."""
    first = sims.sync_once()
    second = sims.sync_once()
    assert first.ok, first.error
    assert second.ok and second.counts.get("create", 0) == 0
    by_ref = sims.hub_by_ref()
    refs = {make_ref("open311", rid): rid for rid in sims.door_state.requests}
    assert set(by_ref) == set(refs)
    assert all(len(copies) == 1 for copies in by_ref.values())
    for ref, request_id in refs.items():
        [hub] = by_ref[ref]
        request = sims.door_state.requests[request_id]
        assert hub["title"] == request["service_name"]
        assert hub["content"] == request["description"]
    assert first.counts["create"] == 20


def test_a_request_closed_afterwards_is_noted_in_the_ledger(sims: Sims) -> None:
    """Closing a request in Open311 records `closed` for its complaint on the next cycle."""
    assert sims.sync_once().ok
    request_id = next(iter(sims.door_state.requests))
    ref = make_ref("open311", request_id)
    assert sims.states([ref])[ref].status == "new"
    sims.door_state.close(request_id, "Jalan sudah diperbaiki")
    report = sims.sync_once()
    assert report.ok, report.error
    assert report.counts.get("create", 0) == 0
    assert sims.states([ref])[ref].status == "closed"
