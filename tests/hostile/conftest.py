"""LAPOR! and SIDUMAS simulators on loopback, a bridge configured for them, read-back helpers.

Also a LAPOR! faked with respx at the connector level, and a route from any such fake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bridge.connector import Connector
from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.demo import DEMO_SECRETS, write_config
from bridge.http import RetrySettings
from bridge.ledger import Ledger
from bridge.mapping import Mapping, load_mapping
from bridge.model import Complaint, carried_ref
from bridge.sync import CycleReport, Route
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from bridge.testing.simulators.sidumas_state import SidumasState
from tests.conftest import MAPPINGS
from tests.hostile.corpus import delivered_by_ref
from tests.simulated import open_ledger, sync_route

HUB_MAX_ATTACHMENT = 256 * 1024
"""The LAPOR! simulator here refuses files above this (413), as the real hub has a limit."""
TO_LAPOR = "sidumas-to-lapor"
FROM_LAPOR = "lapor-to-sidumas"
LAPOR_HOST = "api-splp.layanan.go.id"
"""The real LAPOR! API's host, served by respx where a test fakes its answers."""


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
        return sync_route(self.config_path, route, secrets or DEMO_SECRETS)

    def ledger(self) -> Ledger:
        """The bridge's ledger (a context manager: close it after reading)."""
        return open_ledger(self.config_path, DEMO_SECRETS)

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


# -- LAPOR! faked with respx, at the connector level ------------------------------------------


def respx_lapor() -> LaporConnector:
    """A lapor connector for the real API's address (fake it with respx), trying each call once."""
    base_url = f"https://{LAPOR_HOST}/lapor/3.0.0"
    settings = LaporSettings(type="lapor", base_url=base_url, api_key="k3y", api_guid="g-u-i-d")
    return LaporConnector("lapor", settings, retry=RetrySettings(attempts=1))


def lapor_listing(records: list[Any]) -> dict[str, Any]:
    """LAPOR!'s answer listing ``records``, as they are, on one page."""
    return {"results": {"data": records, "next_page_url": None}, "message": "Success"}


def lapor_other(request: httpx.Request, records: list[dict[str, Any]]) -> dict[str, Any]:
    """LAPOR!'s other answers: a complaint's detail from ``records``, or no follow-ups."""
    results: dict[str, Any]
    if found := re.search(r"/complaints/([^/]+)/complaint$", request.url.path):
        match = [r for r in records if str(r.get("id")) == found.group(1)]
        results = {"data": match[0] if match else None, "data_logs": []}
    else:  # follow-ups
        results = {"data": [], "next_page_url": None}
    return {"results": results, "message": "Success"}


@contextmanager
def respx_route(
    name: str,
    host: str,
    build: Callable[[], Connector],
    respond: Callable[[httpx.Request], httpx.Response],
    mappings: tuple[str, str],
    ledger_dir: Path,
) -> Iterator[Route]:
    """``build()``'s connector against ``respond`` (respx on ``host``), into a memory door.

    ``mappings`` are the shipped source and target mapping files; the route's ledger is a
    fresh SQLite file in ``ledger_dir``.
    """
    source_mapping, target_mapping = mappings
    with (
        respx.mock(assert_all_called=False) as mock,
        Ledger.open(f"sqlite:///{ledger_dir}/l.db") as ledger,
    ):
        mock.route(host=host).mock(side_effect=respond)
        source = build()
        try:
            yield Route(
                name=name,
                source=source,
                target=MemoryConnector("door", MemorySettings(type="memory", store="door")),
                source_mapping=load_mapping(MAPPINGS / source_mapping),
                target_mapping=load_mapping(MAPPINGS / target_mapping),
                ledger=ledger,
            )
        finally:
            source.close()
