"""What a connector notices reaches `bridge status`: an Open311 server without updates.

Over real HTTP on loopback: the Open311 simulator serves no ``servicerequestupdates``
(a plain GeoReport v2 server), the connector turns follow-ups off and says so; the cycle
keeps the notice in the ledger and `bridge status` shows it (and `--json` lists it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.testing.simulators import lapor, open311
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.open311_state import Open311State
from bridge.testing.simulators.server import serve_in_thread
from tests.cli.test_cli import bridge
from tests.e2e.open311_door import SECRETS, Door, write_open311_config

pytestmark = pytest.mark.e2e
ABSENT = "the server has no servicerequestupdates extension (HTTP 404)"


@pytest.fixture
def door(tmp_path: Path) -> Iterator[Door]:
    door_state = Open311State()
    door_state.seed(3, load_corpus(limit=3))
    with (
        serve_in_thread(lapor.create_app(LaporState())) as hub,
        serve_in_thread(open311.create_app(door_state, updates=False)) as server,
    ):
        yield Door(door_state, write_open311_config(tmp_path, hub.url, server.url))


def status(door: Door, *options: str) -> str:
    result = bridge("status", "--config", str(door.config_path), *options, secrets=SECRETS)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_status_shows_a_server_without_updates_kept_across_fresh_connectors(
    door: Door,
) -> None:
    """The 404 notice reaches `bridge status` with its first sighting, and stays when the next
    run's new connector has not tried the extension yet (it ages out in the ledger)."""
    report = door.sync()
    assert report.ok, report.error
    text = " ".join(status(door).split())
    assert "Connector notices" in text
    assert "open311 since" in text
    assert ABSENT in text
    assert "set updates = false" in text
    [first] = json.loads(status(door, "--json"))["notices"]
    assert first["system"] == "open311"
    assert ABSENT in first["text"]

    report = door.sync()  # a new process's connector: nothing re-polled, so nothing probed
    assert report.ok, report.error
    assert report.counts.get("repoll", 0) == 0
    assert json.loads(status(door, "--json"))["notices"] == [first]
