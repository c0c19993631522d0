"""LAPOR!'s anonim/rahasia flags: JSON true/false on the wire, as the real v3 clients send them.

Both public production clients (muhilman2012/admin_lmw_v2
app/Services/LaporForwardingService.php, muhilman2012/whatsapp-api
app/Http/Controllers/Api/LaporanController.php) post ``is_anonymous``/``is_secret`` as PHP
booleans in a JSON body. The shipped ``lapor.toml`` writes them so; the simulator takes
those and the 0/1 an older configuration sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.mapping import load_mapping
from bridge.model import Complaint, FollowUp
from bridge.testing.simulators.lapor import create_app
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from tests.conftest import MAPPINGS

HEADERS = {"auth": "Bearer k3y", "token": "g-u-i-d"}
CREATE: dict[str, Any] = {
    "title": "Lampu jalan mati",
    "content": "Lampu mati sejak Senin",
    "disposition_id": 1001,
    "category_id": 1,
    "is_new_user_slider": True,
    "nameUser": "Made",
}


@pytest.fixture
def hub() -> Iterator[tuple[RunningServer, LaporState]]:
    state = LaporState()
    with serve_in_thread(create_app(state, api_key="k3y", api_guid="g-u-i-d")) as server:
        yield server, state


def test_the_shipped_mapping_writes_the_flags_as_json_booleans() -> None:
    """to_native gives True/False (JSON true/false), never 1/0, for both flags and follow-ups."""
    mapping = load_mapping(MAPPINGS / "lapor.toml")
    complaint = Complaint(
        source_id="7",
        title="Lampu jalan mati",
        content="Lampu mati sejak Senin",
        category="infrastruktur",
        is_anonymous=True,
        is_secret=False,
    )
    payload = mapping.to_native(complaint)
    assert payload["is_anonymous"] is True and payload["is_secret"] is False
    assert '"is_anonymous": true, ' in json.dumps(payload, sort_keys=True)
    assert (
        mapping.followup_to_native(FollowUp(source_id="1", content="Sudah", is_secret=True))[
            "is_secret"
        ]
        is True
    )


@pytest.mark.parametrize(
    ("anonymous", "secret"),
    [(True, False), (False, True), (1, 0), (0, 1), ("1", "0")],
    ids=["json-true", "json-false", "int-1", "int-0", "text"],
)
def test_the_simulator_takes_booleans_and_the_old_zero_one(
    hub: tuple[RunningServer, LaporState], anonymous: Any, secret: Any
) -> None:
    """A create with true/false (real clients) or 1/0 (older configs) stores the same flags."""
    server, state = hub
    body = {**CREATE, "is_anonymous": anonymous, "is_secret": secret}
    answer = httpx.post(f"{server.url}/complaints/complaint", json=body, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    [stored] = state.complaints.values()
    assert (stored["is_anonymous"], stored["is_secret"]) == (
        int(bool(int(anonymous))),
        int(bool(int(secret))),
    )
