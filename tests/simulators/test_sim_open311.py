"""The Open311 simulator over real HTTP: services, requests, windows, updates, control routes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bridge.testing.simulators._common import ManualClock
from bridge.testing.simulators.corpus import CorpusEntry
from bridge.testing.simulators.open311 import DEMO_API_KEY, create_app
from bridge.testing.simulators.open311_state import Open311State
from bridge.testing.simulators.server import RunningServer

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]
V2 = "/open311/v2"
NEW = {
    "api_key": DEMO_API_KEY,
    "service_code": "pothole",
    "lat": "-8.65",
    "long": "115.2",
    "description": "Jalan berlubang.",
    "first_name": "Made",
    "email": "made@example.id",
}


@pytest.fixture
def state(clock: ManualClock) -> Open311State:
    return Open311State(clock=clock)


def start(serve: Serve, client: MakeClient, state: Open311State, **options: Any) -> httpx.Client:
    return client(serve(create_app(state, **options)).url)


@pytest.fixture
def open311(state: Open311State, serve: Serve, client: MakeClient) -> httpx.Client:
    return start(serve, client, state)


def window(start: str, end: str) -> dict[str, str]:
    return {"start_date": start, "end_date": end}


def test_services_list_every_category(open311: httpx.Client) -> None:
    """services.json lists realtime services without metadata, one group per category at least."""
    services = open311.get(f"{V2}/services.json").json()
    assert {s["service_code"] for s in services} >= {"pothole", "streetlight", "garbage", "other"}
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)
    assert len({s["group"] for s in services}) == 8


def test_create_needs_the_api_key(open311: httpx.Client) -> None:
    """A create without the right api_key gets 403 and the standard's error list."""
    response = open311.post(f"{V2}/requests.json", data={**NEW, "api_key": "wrong"})
    assert response.status_code == 403
    [error] = response.json()
    assert error["code"] == 403 and "api_key" in error["description"]


@pytest.mark.parametrize(
    ("change", "word"),
    [({"service_code": ""}, "service_code"), ({"lat": "", "long": ""}, "location")],
)
def test_create_without_required_fields_is_a_400_list(
    open311: httpx.Client, change: dict[str, str], word: str
) -> None:
    """Missing service_code or location is refused with 400 and a description naming it."""
    response = open311.post(f"{V2}/requests.json", data={**NEW, **change})
    assert response.status_code == 400
    assert word in response.json()[0]["description"]


def test_created_request_is_listed_without_contact_data(open311: httpx.Client) -> None:
    """A create answers the id; the request is shown open, in WITA, with no name or e-mail."""
    [answer] = open311.post(f"{V2}/requests.json", data=NEW).json()
    [shown] = open311.get(f"{V2}/requests/{answer['service_request_id']}.json").json()
    assert shown["status"] == "open" and shown["service_name"] == "Jalan berlubang"
    assert shown["requested_datetime"].endswith("+08:00")
    assert "first_name" not in shown and "email" not in shown and "_contact" not in shown


def test_unknown_request_is_404(open311: httpx.Client) -> None:
    """requests/{id}.json of an unknown id is 404 with an error list."""
    response = open311.get(f"{V2}/requests/999.json")
    assert response.status_code == 404 and response.json()[0]["code"] == 404


def test_listing_filters_on_updated_time_inclusively(
    open311: httpx.Client, clock: ManualClock
) -> None:
    """start_date/end_date select by updated_datetime, both ends included."""
    [first] = open311.post(f"{V2}/requests.json", data=NEW).json()
    clock.advance(hours=2)
    open311.post(f"{V2}/requests.json", data=NEW)
    shown = open311.get(f"{V2}/requests/{first['service_request_id']}.json").json()[0]
    at = shown["updated_datetime"]
    listed = open311.get(f"{V2}/requests.json", params=window(at, at)).json()
    assert [r["service_request_id"] for r in listed] == [first["service_request_id"]]


def test_listing_by_requested_time_when_configured(
    state: Open311State, serve: Serve, client: MakeClient, clock: ManualClock
) -> None:
    """filter_field="requested_datetime" ignores later updates when filtering."""
    sim = start(serve, client, state, filter_field="requested_datetime")
    [made] = sim.post(f"{V2}/requests.json", data=NEW).json()
    clock.advance(days=3)
    state.close(made["service_request_id"], "Selesai")
    today = clock.now.isoformat()
    assert sim.get(f"{V2}/requests.json", params=window(today, today)).json() == []


def test_listing_defaults_to_the_last_90_days(open311: httpx.Client, state: Open311State) -> None:
    """Without dates only requests updated in the last 90 days are listed."""
    open311.post(f"{V2}/requests.json", data=NEW)
    old = (state.clock() - timedelta(days=100)).isoformat()
    state.insert_raw({"status": "open", "updated_datetime": old, "description": "lama"})
    assert len(open311.get(f"{V2}/requests.json").json()) == 1


def test_listing_is_capped_at_max_results(
    state: Open311State, serve: Serve, client: MakeClient, corpus: list[CorpusEntry]
) -> None:
    """A listing answers at most max_results requests, oldest first."""
    state.seed(12, corpus)
    sim = start(serve, client, state, max_results=5)
    listed = sim.get(f"{V2}/requests.json").json()
    assert len(listed) == 5
    assert listed == sorted(listed, key=lambda r: r["updated_datetime"])


def test_listing_by_ids_ignores_the_dates(open311: httpx.Client, state: Open311State) -> None:
    """service_request_id=a,b lists exactly those requests."""
    ids = [open311.post(f"{V2}/requests.json", data=NEW).json()[0]["service_request_id"]]
    ids.append(open311.post(f"{V2}/requests.json", data=NEW).json()[0]["service_request_id"])
    far = window("2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z")
    params = {**far, "service_request_id": ",".join(ids)}
    assert [
        r["service_request_id"] for r in open311.get(f"{V2}/requests.json", params=params).json()
    ] == ids


def test_a_wrong_jurisdiction_is_404(open311: httpx.Client) -> None:
    """Any call naming another jurisdiction_id is refused with 404."""
    response = open311.get(f"{V2}/services.json", params={"jurisdiction_id": "elsewhere.go.id"})
    assert response.status_code == 404


def test_token_mode_answers_a_token_that_resolves(
    state: Open311State, serve: Serve, client: MakeClient
) -> None:
    """create_response="token" answers a token; tokens/{token}.json gives the id."""
    sim = start(serve, client, state, create_response="token")
    [answer] = sim.post(f"{V2}/requests.json", data=NEW).json()
    assert "service_request_id" not in answer
    [resolved] = sim.get(f"{V2}/tokens/{answer['token']}.json").json()
    assert resolved["service_request_id"] in state.requests


def test_an_update_moves_status_and_is_listed(open311: httpx.Client, clock: ManualClock) -> None:
    """POSTing an update closes the request, sets its notes and lists it by time."""
    [made] = open311.post(f"{V2}/requests.json", data=NEW).json()
    request_id = made["service_request_id"]
    clock.advance(minutes=5)
    update = {
        "api_key": DEMO_API_KEY,
        "service_request_id": request_id,
        "status": "closed",
        "description": "Sudah ditambal",
        "updated_datetime": "2026-03-02T01:05:00Z",
    }
    [posted] = open311.post(f"{V2}/servicerequestupdates.json", data=update).json()
    [shown] = open311.get(f"{V2}/requests/{request_id}.json").json()
    assert (shown["status"], shown["status_notes"]) == ("closed", "Sudah ditambal")
    listed = open311.get(
        f"{V2}/servicerequestupdates.json",
        params=window("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z"),
    ).json()
    assert [(u["update_id"], u["description"]) for u in listed] == [
        (posted["update_id"], "Sudah ditambal")
    ]


def test_an_update_to_an_unknown_request_is_404(open311: httpx.Client) -> None:
    """An update naming a request the server does not know is refused with 404."""
    update = {"api_key": DEMO_API_KEY, "service_request_id": "999", "status": "open"}
    assert open311.post(f"{V2}/servicerequestupdates.json", data=update).status_code == 404


def test_without_updates_the_extension_is_absent(
    state: Open311State, serve: Serve, client: MakeClient
) -> None:
    """updates=False serves no servicerequestupdates route."""
    sim = start(serve, client, state, updates=False)
    assert sim.get(f"{V2}/servicerequestupdates.json").status_code == 404


def test_control_routes_seed_close_and_reset(open311: httpx.Client) -> None:
    """/_sim/ seeds (cycling the corpus), closes a request, counts and resets."""
    assert open311.post("/_sim/seed", json={"n": 4}).json() == {"added": 4}
    first = open311.get("/_sim/requests").json()[0]
    closed = open311.post(
        f"/_sim/requests/{first['service_request_id']}/close", json={"status_notes": "Beres"}
    ).json()
    assert (closed["status"], closed["status_notes"]) == ("closed", "Beres")
    injected = open311.post("/_sim/requests", json={"description": "mentah"}).json()
    assert injected["service_request_id"]
    assert open311.get("/_sim/stats").json()["requests"] == 5
    open311.post("/_sim/reset")
    assert open311.get("/_sim/requests").json() == []
