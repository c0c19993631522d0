"""Two agencies, alike connector names, one LAPOR! dropping answers: neither takes the other's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import serve_in_thread
from bridge.testing.simulators.sidumas_state import SidumasState
from tests.simulated import hub_by_ref, sync_route

pytestmark = pytest.mark.e2e

AGENCIES = ("pemkab-badung", "pemkab-gianyar")


@dataclass
class OneHub:
    url: str
    state: LaporState
    configs: dict[str, Path]
    doors: dict[str, SidumasState]


@pytest.fixture
def one_hub(tmp_path: Path) -> Iterator[OneHub]:
    """One LAPOR! simulator; per agency a SIDUMAS seeded alike (same ids) and its own config."""
    with ExitStack() as stack:
        state = LaporState()
        hub = stack.enter_context(serve_in_thread(lapor.create_app(state)))
        found = OneHub(hub.url, state, {}, {})
        for agency in AGENCIES:
            door_state = SidumasState()
            door_state.seed(12, load_corpus(limit=12))
            door = stack.enter_context(serve_in_thread(sidumas.create_app(door_state)))
            (tmp_path / agency).mkdir()
            path = write_config(tmp_path / agency, hub.url, door.url, tmp_path / agency / "l.db")
            text = path.read_text(encoding="utf-8")
            named = f"[ledger]\ninstallation = {json.dumps(agency)}\n"
            # The simulator's search has no lag: owed creates are looked up on the next run.
            at_once = 'name = "sidumas-to-lapor"\ncreate_settle_seconds = 0\n'
            text = text.replace("[ledger]\n", named, 1)
            text = text.replace('name = "sidumas-to-lapor"\n', at_once, 1)
            path.write_text(text, encoding="utf-8")
            found.configs[agency], found.doors[agency] = path, door_state
        yield found


def test_alike_doors_of_two_agencies_each_land_once_under_their_own_reference(
    one_hub: OneHub,
) -> None:
    """Same connector names, same record ids, lost answers: each agency's complaints once."""
    faults = {"drop_after_commit_rate": 0.4, "seed": 5}
    httpx.post(f"{one_hub.url}/_sim/faults", json=faults).raise_for_status()
    for _ in range(4):  # in turns, as two bridges polling one hub would
        for agency in AGENCIES:
            sync_route(one_hub.configs[agency], "sidumas-to-lapor", DEMO_SECRETS)
    by_ref = hub_by_ref(one_hub.state.complaints.values())
    assert all(len(copies) == 1 for copies in by_ref.values()), "a complaint was doubled"
    hub_ids = [str(i) for i in one_hub.state.complaints]
    for agency in AGENCIES:
        records = one_hub.doors[agency].records
        public = [r for r in records if not r.get("hide_pengaduan")]
        mine = {make_ref("sidumas", str(r["id"]), agency) for r in records}
        # Every complaint of this agency's door that may leave it is in LAPOR!, once...
        assert {make_ref("sidumas", str(r["id"]), agency) for r in public} <= set(by_ref)
        # ...and its ledger links only LAPOR! complaints carrying its own references.
        url = load_config(one_hub.configs[agency], environ=DEMO_SECRETS).ledger.url
        with Ledger.open(url) as ledger:
            linked = {link.ref for link in ledger.links.by_remote("lapor", hub_ids).values()}
        assert linked == {ref for ref in mine if ref in by_ref}
