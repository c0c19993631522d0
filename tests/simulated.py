"""Real HTTP on loopback: the LAPOR! and SIDUMAS simulators, and a bridge configured for them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.config import BridgeConfig, load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.ledger import Ledger
from bridge.sync import CycleReport, Route, build_routes, close_routes, run_cycle
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from bridge.testing.simulators.sidumas_state import SidumasState


@dataclass
class Sims:
    hub: RunningServer
    door: RunningServer
    hub_state: LaporState
    door_state: SidumasState
    config_path: Path

    def config(self) -> BridgeConfig:
        return load_config(self.config_path, environ=DEMO_SECRETS)

    def hub_post(self, path: str, body: dict[str, Any] | None = None) -> None:
        """A LAPOR! simulator control call (``/_sim/<path>``); a refused one fails the test."""
        httpx.post(f"{self.hub.url}/_sim/{path}", json=body).raise_for_status()

    def look_up_at_once(self, route: str = "sidumas-to-lapor") -> None:
        """Owed creates are looked up on the very next run: the simulator's search has no lag
        (the default `create_settle_seconds` waits for a real index to catch up)."""
        text = self.config_path.read_text(encoding="utf-8")
        named = f'name = "{route}"\n'
        assert named in text, f"no route {route} in {self.config_path}"
        text = text.replace(named, f"{named}create_settle_seconds = 0\n", 1)
        self.config_path.write_text(text, encoding="utf-8")

    def one_create_at_a_time(self) -> None:
        """LAPOR! gets one create at a time (``max_concurrency = 1``): a kill then finds at
        most one in flight, which the rerun finds by reference. With more in flight, one
        the hub had not received yet makes the rerun wait out the dead holder's lease."""
        text = self.config_path.read_text(encoding="utf-8")
        text = text.replace('type = "lapor"\n', 'type = "lapor"\nmax_concurrency = 1\n', 1)
        self.config_path.write_text(text, encoding="utf-8")

    def hub_copies(self) -> Counter[str]:
        """How many LAPOR! complaints carry each bridge reference (``#lb…`` in ``tags_raw``).

        Titles are no test of doubles: the sample corpus, used where the shared one is
        absent, repeats them.
        """
        found = hub_by_ref(self.hub_state.complaints.values())
        return Counter({ref: len(copies) for ref, copies in found.items()})


def hub_by_ref(complaints: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """LAPOR! complaints by the bridge reference in their ``#lb…`` tag."""
    found: dict[str, list[dict[str, Any]]] = {}
    for complaint in complaints:
        for tag in str(complaint.get("tags_raw") or "").split():
            if tag.startswith("#lb"):
                found.setdefault(tag[1:], []).append(complaint)
    return found


@pytest.fixture
def sims(tmp_path: Path) -> Iterator[Sims]:
    hub_state = LaporState()
    door_state = SidumasState()
    door_state.seed(30, load_corpus(limit=30))
    with (
        serve_in_thread(lapor.create_app(hub_state)) as hub,
        serve_in_thread(sidumas.create_app(door_state)) as door,
    ):
        path = write_config(tmp_path, hub.url, door.url, tmp_path / "bridge.db")
        yield Sims(hub, door, hub_state, door_state, path)


def sync_route(config_path: Path, route: str, secrets: dict[str, str]) -> CycleReport:
    """One cycle of ``route`` through the real config loader, connectors and ledger."""
    config = load_config(config_path, environ=secrets)
    with Ledger.open(config.ledger.url) as ledger:
        routes = build_routes(config, ledger, only=route)
        try:
            return run_cycle(routes[0])
        finally:
            close_routes(routes)


@contextmanager
def one_route(sims: Sims, name: str) -> Iterator[Route]:
    """The route ``name`` of the simulators' configuration as it stands, on its ledger."""
    config = sims.config()
    with Ledger.open(config.ledger.url) as ledger:
        routes = build_routes(config, ledger, only=name)
        try:
            yield routes[0]
        finally:
            close_routes(routes)


def open_ledger(config_path: Path, secrets: dict[str, str]) -> Ledger:
    """The configuration's ledger (a context manager: close it after reading)."""
    return Ledger.open(load_config(config_path, environ=secrets).ledger.url)
