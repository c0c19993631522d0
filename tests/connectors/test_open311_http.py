"""The Open311 connector's HTTP edge cases, against respx (no server)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    ReadRefused,
    RemoteRejected,
    RouteError,
)
from bridge.http import RetrySettings

BASE = "https://311.badungkab.go.id/open311/v2"
KEY = "s3cret-open311-key"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NO_WAIT = RetrySettings(attempts=2, wait_initial=0, wait_max=0)


def make(**options: Any) -> Open311Connector:
    # JSON only: these tests mock the .json paths (format = "auto" is tested on its own).
    values: dict[str, Any] = {
        "type": "open311", "base_url": BASE + "/", "api_key": KEY, "format": "json"
    }  # fmt: skip
    settings = Open311Settings.model_validate({**values, **options})
    return Open311Connector("open311", settings, retry=NO_WAIT, clock=lambda: NOW)


@pytest.fixture
def open311() -> Iterator[Open311Connector]:
    connector = make()
    with respx.mock:
        yield connector
    connector.close()


def form_of(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def errors(code: int, description: str) -> httpx.Response:
    return httpx.Response(code, json=[{"code": code, "description": description}])


def request_at(n: int, at: datetime, **extra: Any) -> dict[str, Any]:
    stamp = at.isoformat()
    return {"service_request_id": str(n), "status": "open", "updated_datetime": stamp, **extra}


class FakeServer:
    """A listing that filters on updated_datetime (both ends inclusive) and caps its answers."""

    def __init__(self, records: list[dict[str, Any]], cap: int = 1000) -> None:
        self.records = records
        self.cap = cap
        self.windows: list[tuple[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        start = datetime.fromisoformat(request.url.params["start_date"])
        end = datetime.fromisoformat(request.url.params["end_date"])
        self.windows.append((request.url.params["start_date"], request.url.params["end_date"]))
        found = [
            r for r in self.records if start <= datetime.fromisoformat(r["updated_datetime"]) <= end
        ]
        return httpx.Response(200, json=found[: self.cap])


# -- listing -----------------------------------------------------------------------------------


def test_pull_always_sends_explicit_dates_and_the_jurisdiction() -> None:
    """Every listing call names start_date, end_date (UTC, Z) and jurisdiction_id; no api_key."""
    with respx.mock, make(jurisdiction_id="badungkab.go.id", window_days=10) as connector:
        route = respx.get(f"{BASE}/requests.json").respond(json=[])
        assert list(connector.pull(NOW - timedelta(days=25))) == []
    params = [call.request.url.params for call in route.calls]
    assert len(params) == 3
    assert params[0]["start_date"] == "2026-02-04T12:00:00Z"
    assert params[-1]["end_date"] == "2026-03-01T12:05:00Z"  # now plus the clock-skew margin
    assert all(p["jurisdiction_id"] == "badungkab.go.id" and "api_key" not in p for p in params)


def test_a_first_pull_starts_at_the_start_date_setting() -> None:
    """Without since, pull starts at start_date (a naive time is UTC)."""
    with respx.mock, make(start_date="2026-02-20T00:00:00") as connector:
        route = respx.get(f"{BASE}/requests.json").respond(json=[])
        list(connector.pull())
    assert route.calls[0].request.url.params["start_date"] == "2026-02-20T00:00:00Z"


def test_a_window_at_the_cap_is_split_so_nothing_is_cut_off(open311: Open311Connector) -> None:
    """1500 requests in one 30-day window (cap 1000): halves are asked, all 1500 come once."""
    base = NOW - timedelta(days=20)
    records = [request_at(n, base + timedelta(minutes=n)) for n in range(1500)]
    server = FakeServer(records)
    respx.get(f"{BASE}/requests.json").mock(side_effect=server)
    with capture_logs() as logs:
        pages = list(open311.pull(NOW - timedelta(days=29)))
    ids = [r["service_request_id"] for page in pages for r in page]
    assert sorted(ids, key=int) == [str(n) for n in range(1500)]
    assert len(server.windows) > 2
    assert any(e["event"] == "open311.window.split" for e in logs)


def test_records_on_a_shared_window_boundary_are_yielded_once(open311: Open311Connector) -> None:
    """A request updated exactly on a window boundary is listed by both windows, yielded once."""
    since = NOW - timedelta(days=40)
    boundary = since + timedelta(days=30)
    respx.get(f"{BASE}/requests.json").mock(side_effect=FakeServer([request_at(7, boundary)]))
    pages = list(open311.pull(since))
    assert [r["service_request_id"] for page in pages for r in page] == ["7"]


def test_a_cap_reached_within_one_second_is_a_protocol_error(open311: Open311Connector) -> None:
    """More requests at one second than the cap allows stops the route instead of losing some."""
    at = NOW - timedelta(hours=1)
    respx.get(f"{BASE}/requests.json").mock(
        side_effect=FakeServer([request_at(n, at) for n in range(3)], cap=2)
    )
    with make(max_results=2) as connector, pytest.raises(ProtocolError, match="one second"):
        list(connector.pull(NOW - timedelta(days=1)))


def test_a_refused_listing_stops_the_route(open311: Open311Connector) -> None:
    """A 400 on a listing is ReadRefused (a RouteError) with the description, path and keys."""
    respx.get(f"{BASE}/requests.json").mock(return_value=errors(400, "start_date is invalid"))
    with pytest.raises(ReadRefused, match="start_date is invalid") as caught:
        list(open311.pull(NOW - timedelta(days=1)))
    assert isinstance(caught.value, RouteError)
    assert "requests.json" in str(caught.value) and "base_url" in str(caught.value)


def test_get_of_an_unknown_request_is_none(open311: Open311Connector) -> None:
    """A 404 error list, or an empty list, means the request does not exist."""
    respx.get(f"{BASE}/requests/1.json").mock(return_value=errors(404, "not found"))
    respx.get(f"{BASE}/requests/2.json").respond(json=[])
    assert open311.get("1") is None
    assert open311.get("2") is None


def test_the_ref_line_is_shown_as_bridge_ref(open311: Open311Connector) -> None:
    """get shows a `[ref: …]` last line as bridge_ref and the description without it."""
    text = "Lampu mati.\n\n[ref: lb0123456789abcdef]"
    respx.get(f"{BASE}/requests/5.json").respond(json=[request_at(5, NOW, description=text)])
    record = open311.get("5")
    assert record is not None
    assert record["description"] == "Lampu mati."
    assert record["bridge_ref"] == "lb0123456789abcdef"


# -- writing -----------------------------------------------------------------------------------


def test_create_posts_a_form_with_the_key_and_the_ref_line(open311: Open311Connector) -> None:
    """create sends a form (api_key, description ending in the ref line), never a URL key."""
    route = respx.post(f"{BASE}/requests.json").respond(json=[{"service_request_id": "77"}])
    new_id = open311.create(
        {"service_code": "pothole", "description": "Lubang", "lat": -8.6, "long": 115.2},
        [],
        "lb00000000000000aa",
    )
    assert new_id == "77"
    request = route.calls.last.request
    form = form_of(request)
    assert form["api_key"] == KEY
    assert form["description"] == "Lubang\n\n[ref: lb00000000000000aa]"
    assert KEY not in str(request.url)


def test_the_api_key_never_reaches_error_messages_or_logs(open311: Open311Connector) -> None:
    """A 400 whose description echoes the key is refused with the key redacted, in logs too."""
    respx.post(f"{BASE}/requests.json").mock(
        return_value=errors(400, f"api_key {KEY} may not create service_code x")
    )
    with capture_logs() as logs, pytest.raises(RemoteRejected) as refused:
        open311.create({"service_code": "x", "description": "d"}, [], "lb00000000000000aa")
    assert refused.value.status_code == 400
    assert "may not create service_code x" in str(refused.value)
    assert KEY not in str(refused.value)
    assert KEY not in repr(logs)


def test_a_403_error_list_is_an_auth_error_with_the_description(open311: Open311Connector) -> None:
    """403 stops the route (AuthError) with the server's description and the secret's name only."""
    respx.post(f"{BASE}/requests.json").mock(return_value=errors(403, f"invalid api_key {KEY}"))
    with pytest.raises(AuthError) as refused:
        open311.create({"service_code": "x", "description": "d"}, [], "lb00000000000000aa")
    message = str(refused.value)
    assert "invalid api_key" in message and "api_key of connector 'open311'" in message
    assert KEY not in message


def test_a_create_without_api_key_is_refused_before_sending() -> None:
    """Without the api_key secret a create raises AuthError naming it and sends nothing."""
    with respx.mock, make(api_key=None) as connector:
        route = respx.post(f"{BASE}/requests.json").respond(json=[])
        with pytest.raises(AuthError, match="api_key"):
            connector.create({"service_code": "x", "description": "d"}, [], "lb00000000000000aa")
    assert not route.called


def test_a_token_only_create_is_resolved_with_one_lookup(open311: Open311Connector) -> None:
    """A create answered with a token asks tokens/{token}.json once and returns its id."""
    respx.post(f"{BASE}/requests.json").respond(json=[{"token": "t-9"}])
    lookup = respx.get(f"{BASE}/tokens/t-9.json").respond(
        json=[{"token": "t-9", "service_request_id": "91"}]
    )
    assert open311.create({"service_code": "x", "description": "d"}, [], "lb00000000000000aa") == (
        "91"
    )
    assert lookup.call_count == 1


def test_a_token_without_id_yet_is_a_protocol_error(open311: Open311Connector) -> None:
    """A token that shows no id after the one lookup raises ProtocolError saying why."""
    respx.post(f"{BASE}/requests.json").respond(json=[{"token": "t-9"}])
    lookup = respx.get(f"{BASE}/tokens/t-9.json").respond(json=[{"token": "t-9"}])
    with pytest.raises(ProtocolError, match="token but has no id yet"):
        open311.create({"service_code": "x", "description": "d"}, [], "lb00000000000000aa")
    assert lookup.call_count == 1


def test_set_status_posts_an_update_without_a_note(open311: Open311Connector) -> None:
    """set_status posts status, the request id, a time and an empty description."""
    route = respx.post(f"{BASE}/servicerequestupdates.json").respond(json=[{"update_id": "u1"}])
    open311.set_status("77", {"status": "closed"})
    form = form_of(route.calls.last.request)
    assert form["status"] == "closed" and form["service_request_id"] == "77"
    assert form["updated_datetime"] == "2026-03-01T12:00:00Z"
    assert form.get("description", "") == ""


def test_followups_keep_only_notes_of_that_request(open311: Open311Connector) -> None:
    """followups lists that request's updates with a description, oldest first, with an id."""
    opened = (NOW - timedelta(days=2)).isoformat()
    respx.get(f"{BASE}/requests/5.json").respond(
        json=[request_at(5, NOW, requested_datetime=opened)]
    )
    later, earlier = NOW - timedelta(hours=1), NOW - timedelta(hours=2)
    respx.get(f"{BASE}/servicerequestupdates.json").respond(
        json=[
            {"update_id": "u3", "service_request_id": "5", "description": "Selesai",
             "updated_datetime": later.isoformat()},
            {"update_id": "u2", "service_request_id": "5", "description": "",
             "updated_datetime": earlier.isoformat()},
            {"update_id": "u1", "service_request_id": "5", "description": "Dicek",
             "updated_datetime": earlier.isoformat()},
            {"update_id": "u9", "service_request_id": "6", "description": "Lain",
             "updated_datetime": earlier.isoformat()},
        ]
    )  # fmt: skip
    listed = open311.followups("5")
    assert [(f["id"], f["description"]) for f in listed] == [("u1", "Dicek"), ("u3", "Selesai")]


def test_plain_http_to_another_host_is_refused() -> None:
    """The shared policy refuses http:// to a non-loopback host unless explicitly allowed."""
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        make(base_url="http://311.badungkab.go.id/open311/v2/")
    make(base_url="http://311.badungkab.go.id/open311/v2/", allow_insecure_http=True).close()


def test_unknown_settings_are_refused() -> None:
    """A misspelt key is a validation error, not silently ignored."""
    with pytest.raises(ValueError, match="window_day"):
        make(window_day=7)
