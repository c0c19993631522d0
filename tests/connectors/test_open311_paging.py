"""The Open311 connector follows a server's paging and never takes a first page for the whole."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import ProtocolError
from bridge.http import RetrySettings
from bridge.testing.simulators.open311 import create_app
from bridge.testing.simulators.server import serve_in_thread
from tests.connectors.open311_seed import seeded

FIXTURES = Path(__file__).parent / "fixtures"
BASE = "https://311.example.go.id/open311/v2"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NO_WAIT = RetrySettings(attempts=2, wait_initial=0, wait_max=0)


def make(base_url: str, clock: Any = lambda: NOW, **options: Any) -> Open311Connector:
    values: dict[str, Any] = {"type": "open311", "base_url": base_url, "window_days": 60}
    settings = Open311Settings.model_validate({**values, **options})
    return Open311Connector("open311", settings, retry=NO_WAIT, clock=clock)


def pulled_ids(connector: Open311Connector, since: datetime) -> Counter[str]:
    return Counter(r["service_request_id"] for page in connector.pull(since) for r in page)


@pytest.fixture
def recorded() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "open311_paged.json").read_text())
    return loaded


@pytest.fixture
def mocked() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def answer(shape: dict[str, Any]) -> httpx.Response:
    return httpx.Response(shape["status"], json=shape["body"], headers=shape["headers"])


@pytest.mark.e2e
def test_130_requests_over_pages_of_100_are_each_pulled_exactly_once() -> None:
    """Against a server paging 100 a page in headers only, all 130 requests arrive once each."""
    state = seeded(130, NOW)
    app = create_app(state, page_size=100, jurisdiction_id="x")
    with serve_in_thread(app) as server:
        connector = make(server.url + "/open311/v2/")
        try:
            ids = pulled_ids(connector, NOW - timedelta(days=10))
        finally:
            connector.close()
    assert len(ids) == 130
    assert set(ids.values()) == {1}
    assert state.route_counts["GET /open311/v2/requests.json"] == 2


def test_recorded_django_headers_are_followed_to_the_last_page(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """X-Next-Page-URL of the recorded Django answer is followed; every record comes once."""
    second = mocked.get(url__regex=r".*page=2.*").mock(return_value=answer(recorded["second"]))
    mocked.get(f"{BASE}/requests.json").mock(return_value=answer(recorded["first"]))
    connector = make(BASE + "/")
    ids = pulled_ids(connector, NOW - timedelta(days=40))
    assert ids == Counter({"101": 1, "102": 1, "103": 1})
    assert second.call_count == 1


def test_a_declared_total_not_delivered_stops_the_listing(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """A server announcing 3 results but giving 2 and no next page is a ProtocolError."""
    first = {**recorded["first"], "headers": {"X-Result-Count": "3"}}
    mocked.get(f"{BASE}/requests.json").mock(return_value=answer(first))
    with pytest.raises(ProtocolError, match="announced 3 results but its pages held 2"):
        pulled_ids(make(BASE + "/"), NOW - timedelta(days=40))


def test_a_page_count_without_links_is_walked_by_page_number(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """With only X-Page-Count, pages are asked as page=2, page=3, … up to the count."""
    heads = {"X-Page-Count": "2"}
    mocked.get(url__regex=r".*page=2.*").mock(
        return_value=httpx.Response(200, json=recorded["second"]["body"], headers=heads)
    )
    mocked.get(f"{BASE}/requests.json").mock(
        return_value=httpx.Response(200, json=recorded["first"]["body"], headers=heads)
    )
    assert pulled_ids(make(BASE + "/"), NOW - timedelta(days=40)) == Counter(
        {"101": 1, "102": 1, "103": 1}
    )


def test_a_rest_framework_body_is_followed_by_its_next_link(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """A body {count, next, results} is unwrapped and its relative next link followed."""
    first = {"count": 3, "next": "requests.json?page=2", "results": recorded["first"]["body"]}
    second = {"count": 3, "next": None, "results": recorded["second"]["body"]}
    mocked.get(url__regex=r".*page=2.*").mock(return_value=httpx.Response(200, json=second))
    mocked.get(f"{BASE}/requests.json").mock(return_value=httpx.Response(200, json=first))
    assert sum(pulled_ids(make(BASE + "/"), NOW - timedelta(days=40)).values()) == 3


def test_a_silent_server_is_paged_by_page_size_until_a_short_page(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """With page_size set and no announcement, a full page is followed by the next one."""
    mocked.get(url__regex=r".*page=2.*").mock(
        return_value=httpx.Response(200, json=recorded["second"]["body"])
    )
    first = mocked.get(f"{BASE}/requests.json").mock(
        return_value=httpx.Response(200, json=recorded["first"]["body"])
    )
    ids = pulled_ids(make(BASE + "/", page_size=2), NOW - timedelta(days=40))
    assert ids == Counter({"101": 1, "102": 1, "103": 1})
    assert first.calls[0].request.url.params["page_size"] == "2"


def test_a_server_ignoring_page_falls_back_to_splitting_the_window(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """A page 2 equal to page 1 means `page` is ignored: the full window is split by time."""
    body = recorded["first"]["body"]
    route = mocked.get(f"{BASE}/requests.json").mock(return_value=httpx.Response(200, json=body))
    connector = make(BASE + "/", page_size=2, max_results=2)
    with pytest.raises(ProtocolError, match="within one second"):
        pulled_ids(connector, NOW - timedelta(days=40))
    assert any("page" not in call.request.url.params for call in route.calls[2:])


@pytest.mark.parametrize(
    "link",
    [
        # Django behind a proxy that ends TLS builds its links with http://
        "http://311.example.go.id/open311/v2/requests.json?page=2",
        # or with the application server's own name
        "http://app-internal:8000/open311/v2/requests.json?page=2",
        "https://evil.example.com/requests.json?page=2",
    ],
)
def test_a_next_link_on_another_origin_is_asked_of_our_own_server(
    mocked: respx.MockRouter, recorded: dict[str, Any], link: str
) -> None:
    """The link's query is asked of base_url's listing; no other host is ever asked."""
    first = dict(recorded["first"])
    first["headers"] = {**first["headers"], "X-Next-Page-URL": link}
    second = mocked.get(f"{BASE}/requests.json", params={"page": "2"}).mock(
        return_value=answer(recorded["second"])
    )
    mocked.get(f"{BASE}/requests.json").mock(return_value=answer(first))
    ids = pulled_ids(make(BASE + "/"), NOW - timedelta(days=40))
    assert ids == Counter({"101": 1, "102": 1, "103": 1})
    assert second.call_count == 1
    assert {call.request.url.host for call in mocked.calls} == {"311.example.go.id"}


def test_a_next_link_to_another_resource_elsewhere_is_refused(
    mocked: respx.MockRouter, recorded: dict[str, Any]
) -> None:
    """A next page on another host and another path is not followed: the listing stops."""
    first = dict(recorded["first"])
    first["headers"] = {"X-Next-Page-URL": "https://evil.example.com/steal.json?page=2"}
    mocked.get(f"{BASE}/requests.json").mock(return_value=answer(first))
    with pytest.raises(ProtocolError, match="another origin"):
        pulled_ids(make(BASE + "/"), NOW - timedelta(days=40))
