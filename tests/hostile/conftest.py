"""LAPOR! and SIDUMAS simulators on loopback, a bridge configured for them, read-back helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.engine import CycleReport, Route, run_cycle
from bridge.ledger import Ledger
from bridge.mapping import Mapping, load_mapping
from bridge.model import Complaint, carried_ref
from bridge.routes import build_routes, close_routes
from connectors.memory import MemoryConnector
from simulators import lapor, sidumas
from simulators.lapor_state import LaporState
from simulators.server import RunningServer, serve_in_thread
from simulators.sidumas_state import SidumasState
from tests.conftest import MAPPINGS
from tests.hostile.corpus import delivered_by_ref

HUB_MAX_ATTACHMENT = 256 * 1024
"""The LAPOR! simulator here refuses files above this (413), as the real hub has a limit."""
TO_LAPOR = "sidumas-to-lapor"
FROM_LAPOR = "lapor-to-sidumas"


def read_back(mapping: Mapping, records: list[dict[str, object]]) -> list[tuple[str, Complaint]]:
    """(the bridge reference it carries, the complaint) of every record the bridge created."""
    copies = []
    for record in records:
        complaint = mapping.to_canonical(dict(record))
        ref = carried_ref(complaint)
        if ref is not None:
            copies.append((ref, complaint))
    return copies


def hub_copies(state: LaporState) -> list[tuple[str, Complaint]]:
    """LAPOR!'s complaints as the lapor mapping reads their detail (#4)."""
    details = [lapor.render_detail(rec, state.docs) for rec in state.complaints.values()]
    return read_back(mapping("lapor.toml"), details)


def delivered(route: Route) -> dict[str, list[Complaint]]:
    """What the route's memory target holds, read back with its mapping, by carried reference."""
    assert isinstance(route.target, MemoryConnector)
    return delivered_by_ref(read_back(route.target_mapping, route.target.records()))


@dataclass
class Pair:
    """LAPOR! and SIDUMAS on loopback, and the demo configuration joining them."""

    hub: RunningServer
    door: RunningServer
    hub_state: LaporState
    door_state: SidumasState
    config_path: Path

    def sync(self, route: str, *, secrets: dict[str, str] | None = None) -> CycleReport:
        """One cycle of ``route`` through the real config loader, connectors and ledger."""
        config = load_config(self.config_path, environ=secrets or DEMO_SECRETS)
        with Ledger.open(config.ledger.url) as ledger:
            routes = build_routes(config, ledger, only=route)
            try:
                return run_cycle(routes[0])
            finally:
                close_routes(routes)

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        with Ledger.open(load_config(self.config_path, environ=DEMO_SECRETS).ledger.url) as led:
            yield led

    def hub_copies(self) -> list[tuple[str, Complaint]]:
        """:func:`hub_copies` of this pair's LAPOR!."""
        return hub_copies(self.hub_state)

    def door_copies(self) -> list[tuple[str, Complaint]]:
        """SIDUMAS's complaints that carry a bridge reference (the ones the bridge created)."""
        made = [r for r in self.door_state.records if r.get("ref_eksternal")]
        return read_back(mapping("sidumas.toml"), made)


_MAPPINGS: dict[str, Mapping] = {}


def mapping(name: str) -> Mapping:
    """A shipped mapping file, compiled once."""
    if name not in _MAPPINGS:
        _MAPPINGS[name] = load_mapping(MAPPINGS / name)
    return _MAPPINGS[name]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """Empty simulators (tests seed exactly what they need); LAPOR! refuses files over 256 KiB."""
    hub_state, door_state = LaporState(), SidumasState()
    with (
        serve_in_thread(
            lapor.create_app(hub_state, max_attachment_bytes=HUB_MAX_ATTACHMENT)
        ) as hub,
        serve_in_thread(sidumas.create_app(door_state)) as door,
    ):
        path = write_config(tmp_path, hub.url, door.url, tmp_path / "bridge.db")
        yield Pair(hub, door, hub_state, door_state, path)
