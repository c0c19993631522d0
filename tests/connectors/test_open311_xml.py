"""The Open311 connector speaks the standard's required XML as well as JSON."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import respx

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import AuthError, ProtocolError
from bridge.http import RetrySettings
from bridge.testing.simulators.open311 import DEMO_API_KEY, create_app
from bridge.testing.simulators.open311_state import SERVICE_NAMES
from bridge.testing.simulators.server import serve_in_thread
from tests.connectors.open311_seed import seeded

BASE = "https://311.example.go.id/open311/v2"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RECORDED = (Path(__file__).parent / "fixtures" / "open311_requests.xml").read_bytes()


def make(base_url: str, **options: Any) -> Open311Connector:
    values: dict[str, Any] = {"type": "open311", "base_url": base_url, "window_days": 60}
    settings = Open311Settings.model_validate({**values, **options})
    retry = RetrySettings(attempts=1, wait_initial=0, wait_max=0)
    return Open311Connector("city", settings, retry=retry, clock=lambda: NOW)


@respx.mock
def test_the_recorded_xml_listing_is_read_like_json() -> None:
    """format = "xml" reads the standard's <service_requests>: fields, empty ones None, id 0."""
    respx.get(f"{BASE}/requests.xml").respond(
        content=RECORDED, headers={"Content-Type": "text/xml"}
    )
    connector = make(BASE + "/", format="xml")
    records = [r for page in connector.pull(NOW - timedelta(days=30)) for r in page]
    assert [r["service_request_id"] for r in records] == ["638344", "0"]
    assert records[0]["status_notes"] == "Duplicate request."
    assert records[0]["description"] is None
    assert records[1]["lat"] == "-8.65"


@respx.mock
def test_auto_turns_to_xml_when_json_is_refused_and_stays_there() -> None:
    """format = "auto": a 404 on requests.json, then requests.xml works and is kept."""
    json_route = respx.get(f"{BASE}/requests.json").respond(404, text="Not Found")
    respx.get(f"{BASE}/requests.xml").respond(content=RECORDED)
    connector = make(BASE + "/", window_days=10)
    ids = Counter(
        r["service_request_id"] for p in connector.pull(NOW - timedelta(days=30)) for r in p
    )
    assert ids == Counter({"638344": 1, "0": 1})
    assert json_route.call_count == 1  # asked once, then every window in XML


@respx.mock
def test_an_xml_error_list_is_read_and_an_invalid_key_is_an_auth_error() -> None:
    """<errors><error><description>Invalid api_key</description> answered 400 stops the route."""
    body = b"<errors><error><code>400</code><description>Invalid api_key</description></error>"
    body += b"</errors>"
    respx.post(f"{BASE}/requests.xml").respond(400, content=body)
    connector = make(BASE + "/", format="xml", api_key="k-0123456789")
    with pytest.raises(AuthError, match="Invalid api_key"):
        connector.create({"service_code": "1", "description": "d"}, [], "lb00000000000000aa")


@respx.mock
def test_an_html_page_is_not_taken_for_xml_records() -> None:
    """A proxy's HTML error page answered 200 is a ProtocolError, not a record without id."""
    respx.get(f"{BASE}/requests.xml").respond(content=b"<html><body>502</body></html>")
    with pytest.raises(ProtocolError, match="not GeoReport v2 XML"):
        list(make(BASE + "/", format="xml").pull(NOW - timedelta(days=1)))


@respx.mock
def test_an_entity_bomb_is_refused() -> None:
    """An answer declaring entities is refused by defusedxml instead of being expanded."""
    bomb = b'<!DOCTYPE r [<!ENTITY a "aaaa">]>'
    bomb += b"<service_requests><request>&a;</request></service_requests>"
    respx.get(f"{BASE}/requests.xml").respond(content=bomb)
    with pytest.raises(ProtocolError, match="XML cannot be read"):
        list(make(BASE + "/", format="xml").pull(NOW - timedelta(days=1)))


@pytest.mark.e2e
def test_an_xml_only_paging_server_gives_every_request_once_and_takes_a_create() -> None:
    """Against an XML-only server paging 100, auto finds XML; 130 requests arrive once each."""
    state = seeded(130, NOW)
    app = create_app(state, page_size=100, formats="xml", updates=False, jurisdiction_id="x")
    with serve_in_thread(app) as server:
        connector = make(server.url + "/open311/v2/", api_key=DEMO_API_KEY)
        try:
            ids = Counter(
                r["service_request_id"] for p in connector.pull(NOW - timedelta(days=10)) for r in p
            )
            code = next(iter(SERVICE_NAMES))
            new = {"service_code": code, "description": "Lampu mati", "lat": -8.6, "long": 115.2}
            created = connector.create(new, [], "lb00000000000000aa")
            got = connector.get(created)
        finally:
            connector.close()
    assert len(ids) == 130 and set(ids.values()) == {1}
    assert got is not None and got["bridge_ref"] == "lb00000000000000aa"
    # The XML routes are served by their JSON twins: two pages asked, in XML.
    assert state.route_counts["GET /open311/v2/requests.json"] == 2
