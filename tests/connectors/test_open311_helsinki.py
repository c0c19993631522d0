"""The Open311 connector against the answers of a real GeoReport v2 server.

Every answer replayed here was recorded from the Helsinki region's Django server
(6aika/issue-reporting, run on loopback; ``fixtures/open311_helsinki.json`` says how):
pages announced only in headers, newest first; ``<requests>`` as the XML root of
listings, single requests and refusals alike; ``{"code", "detail"}`` refusals whose
``detail`` is a string, a list or field errors; 406 to ``….xml`` asked with
``Accept: application/json``; no ``servicerequestupdates`` (an HTML 404). Each listing
test ends with every request exactly once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
import respx

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import AuthError, RemoteRejected
from bridge.http import RetrySettings
from bridge.testing.simulators.open311 import DEMO_API_KEY, create_app
from bridge.testing.simulators.server import serve_in_thread
from tests.connectors.open311_seed import seeded as seeded_state

RECORDED: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "open311_helsinki.json").read_text()
)
BASE = "http://127.0.0.1:8311/api/georeport/v2"
NOW = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
KEY = "BRIDGEKEY0123456789"


def make(**options: Any) -> Open311Connector:
    values = {
        "type": "open311",
        "base_url": BASE + "/",
        "api_key": KEY,
        "window_days": 60,
        "start_date": "2026-11-01T00:00:00Z",
        **options,
    }
    settings = Open311Settings.model_validate(values)
    retry = RetrySettings(attempts=1, wait_initial=0, wait_max=0)
    return Open311Connector("helsinki", settings, retry=retry, clock=lambda: NOW)


def seeded(n: int) -> list[dict[str, Any]]:
    """``n`` requests in the recorded record's shape, an hour apart, newest first (as served)."""
    template = RECORDED["list_page_1"]["body"]["first"]
    start = datetime(2026, 11, 18, 0, 23, tzinfo=UTC)
    records = []
    for i in range(n):
        at = (start + timedelta(hours=i)).isoformat()
        records.append(
            {
                **template,
                "service_request_id": f"r{i:03d}",
                "description": f"Seeded request {i:03d}",
                "requested_datetime": at,
                "updated_datetime": at,
            }
        )
    return records[::-1]


def as_xml(records: list[dict[str, Any]]) -> str:
    """Records the way the server writes them: ``<requests><request>``, fields sorted by name."""
    items = "".join(
        "<request>"
        + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in sorted(r.items()))
        + "</request>"
        for r in records
    )
    return f'<?xml version="1.0" encoding="utf-8"?>\n<requests>{items}</requests>'


def recorded(name: str, body: Any = None) -> httpx.Response:
    """The recorded answer ``name`` (its status and headers), with ``body`` if given."""
    shape = RECORDED[name]
    content = shape["body"] if body is None else body
    headers = dict(shape["headers"])
    if isinstance(content, str):
        return httpx.Response(shape["status"], text=content, headers=headers)
    return httpx.Response(shape["status"], json=content, headers=headers)


def negotiated(answer: httpx.Response) -> Any:
    """The server's content negotiation: ``….xml`` asked without accepting XML is a 406."""

    def respond(request: httpx.Request) -> httpx.Response:
        wants_xml = request.url.path.endswith(".xml")
        if wants_xml and "xml" not in request.headers.get("Accept", ""):
            return recorded("xml_with_accept_json")
        return answer

    return respond


@pytest.fixture
def server() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def mock_pages(server: respx.MockRouter, suffix: str) -> tuple[respx.Route, respx.Route]:
    """The recorded two-page listing of 130 requests (100, then 30), in JSON or XML."""
    records = seeded(130)
    pages = []
    for number, part in ((1, records[:100]), (2, records[100:])):
        shape = RECORDED[f"list_page_{number}"]
        headers = {
            k: v.replace("requests.json", f"requests.{suffix}") for k, v in shape["headers"].items()
        }
        if suffix == "xml":
            headers["Content-Type"] = "application/xml; charset=utf-8"
            content: dict[str, Any] = {"text": as_xml(part)}
        else:
            content = {"json": part}
        pages.append(httpx.Response(200, headers=headers, **content))
    second = server.get(url__regex=rf"/requests\.{suffix}\?.*page=2").mock(
        side_effect=negotiated(pages[1])
    )
    first = server.get(f"/requests.{suffix}").mock(side_effect=negotiated(pages[0]))
    return first, second


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_130_requests_over_the_servers_pages_of_100_arrive_once_each(
    server: respx.MockRouter, fmt: str
) -> None:
    """Page 1 (100, X-Next-Page-URL) then page 2 (30): 130 requests, each exactly once."""
    first, second = mock_pages(server, fmt)
    connector = make(format=fmt)
    pulled = Counter(
        r["service_request_id"] for page in connector.pull(NOW - timedelta(days=30)) for r in page
    )
    assert len(pulled) == 130
    assert set(pulled.values()) == {1}
    assert (first.call_count, second.call_count) == (1, 1)


def test_xml_is_asked_with_an_accept_header_the_server_can_satisfy(
    server: respx.MockRouter,
) -> None:
    """``….xml`` goes with ``Accept: application/xml``: the server answers 406 to JSON-only."""
    first, _ = mock_pages(server, "xml")
    list(make(format="xml").pull(NOW - timedelta(days=30)))
    assert "application/xml" in first.calls.last.request.headers["Accept"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_create_is_read_back_and_found_by_its_reference_once(
    server: respx.MockRouter, fmt: str
) -> None:
    """The recorded 201 answer's id is the id; get and find_by_ref find that one request."""
    created = recorded(f"create_{fmt}") if fmt == "json" else None
    if created is None:  # the recorded XML create is another request: answer with the JSON one's
        [record] = RECORDED["create_json"]["body"]
        created = recorded("create_xml", as_xml([record]))
    post = server.post(f"/requests.{fmt}").mock(side_effect=negotiated(created))
    server.get(f"/requests/2ex4oaqd.{fmt}").mock(side_effect=negotiated(recorded(f"get_{fmt}")))
    # The listing find_by_ref walks holds that one request (same shape as a single one).
    server.get(f"/requests.{fmt}").mock(side_effect=negotiated(recorded(f"get_{fmt}")))
    connector = make(format=fmt)
    new_id = connector.create(
        {"service_code": "171", "description": "Lampu mati di Jl. Raya", "address": "Jl. Raya 1"},
        [],
        "lb00000000000000c1",
    )
    got = connector.get(new_id)
    assert new_id == "2ex4oaqd"
    assert got is not None and got["bridge_ref"] == "lb00000000000000c1"
    assert got["description"] == "Lampu mati di Jl. Raya"
    assert connector.find_by_ref("lb00000000000000c1") == new_id
    assert post.call_count == 1
    sent = post.calls.last.request.content.decode()
    assert f"api_key={KEY}" in sent and "%5Bref%3A+lb00000000000000c1%5D" in sent


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_invalid_api_key_answered_400_stops_the_route(
    server: respx.MockRouter, fmt: str
) -> None:
    """``{"code": 400, "detail": ["Invalid API key"]}`` and its XML: an AuthError, key hidden."""
    server.post(f"/requests.{fmt}").mock(side_effect=negotiated(recorded(f"bad_key_{fmt}")))
    connector = make(format=fmt, api_key="WRONG-KEY-123")
    with pytest.raises(AuthError, match="HTTP 400: Invalid API key") as caught:
        connector.create({"service_code": "171", "description": "x"}, [], "lb00000000000000c2")
    assert "WRONG-KEY-123" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bad_service_json", "HTTP 400: Service code 999 is invalid"),
        ("bad_service_xml", "HTTP 400: Service code 999 is invalid"),
        ("no_service_code_json", "HTTP 400: service_code: This field is required."),
    ],
)
def test_a_refused_create_says_the_servers_reason(
    server: respx.MockRouter, name: str, text: str
) -> None:
    """Field errors under ``detail`` are read, not replaced by "Bad Request"."""
    fmt = name.rsplit("_", 1)[1]
    server.post(f"/requests.{fmt}").mock(side_effect=negotiated(recorded(name)))
    with pytest.raises(RemoteRejected) as caught:
        make(format=fmt).create(
            {"service_code": "999", "description": "x"}, [], "lb0000000000000c3"
        )
    assert str(caught.value).endswith(text)
    assert caught.value.status_code == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_request_is_none(server: respx.MockRouter, fmt: str) -> None:
    """The recorded 404 ``{"code": 404, "detail": "Not Found"}`` means no such request."""
    server.get(f"/requests/nope.{fmt}").mock(side_effect=negotiated(recorded(f"get_missing_{fmt}")))
    assert make(format=fmt).get("nope") is None


def test_a_server_without_updates_gives_the_citys_answer_and_posts_nothing(
    server: respx.MockRouter,
) -> None:
    """Updates answer Django's HTML 404: follow-ups off, said once; status_notes still read."""
    [record] = RECORDED["get_json"]["body"]
    answered = {**record, "status": "closed", "status_notes": "Lampu sudah diganti."}
    server.get("/requests/2ex4oaqd.json").mock(return_value=recorded("get_json", [answered]))
    updates = server.get("/servicerequestupdates.json").mock(return_value=recorded("updates_json"))
    posted = server.post("/servicerequestupdates.json").mock(
        return_value=recorded("post_update_json")
    )
    connector = make()
    [answer] = connector.followups("2ex4oaqd")
    again = connector.followups("2ex4oaqd")
    assert answer["description"] == "Lampu sudah diganti."
    assert again == [answer]
    assert updates.call_count == 1
    assert len(connector.notices()) == 1 and "servicerequestupdates" in connector.notices()[0]
    assert not connector.can_add_followups
    with pytest.raises(NotImplementedError, match="no servicerequestupdates"):
        connector.add_followup("2ex4oaqd", {"description": "Dicek"}, [])
    assert posted.call_count == 0


@pytest.mark.e2e
def test_the_simulator_in_django_style_is_held_like_the_real_server() -> None:
    """Simulator with errors="django", XML and pages of 100: 130 requests once, 406, 400 key."""
    state = seeded_state(130, NOW)
    app = create_app(state, page_size=100, formats="both", errors="django", jurisdiction_id="x")
    with serve_in_thread(app) as sim:
        base = sim.url + "/open311/v2/"
        refused = httpx.get(base + "requests.xml", headers={"Accept": "application/json"})
        connector = make(base_url=base, format="xml", api_key=DEMO_API_KEY)
        wrong = make(base_url=base, format="xml", api_key="WRONG-KEY-123")
        try:
            pulled = Counter(
                r["service_request_id"] for p in connector.pull(NOW - timedelta(days=10)) for r in p
            )
            with pytest.raises(AuthError, match="HTTP 400: Invalid API key"):
                wrong.create({"service_code": "001", "description": "x"}, [], "lb00000000000000c4")
        finally:
            connector.close()
            wrong.close()
    assert refused.status_code == 406
    assert len(pulled) == 130 and set(pulled.values()) == {1}
    assert state.route_counts["GET /open311/v2/requests.json"] == 2
    assert len(state.requests) == 130


def by_its_bounds(request: httpx.Request) -> httpx.Response:
    """The recorded server: start_date on requested_datetime, updated_after on updates."""
    if "updated_after" in request.url.params:
        return recorded("closed_listed_by_updated_after")
    return recorded("closed_listed_by_start_date")


@pytest.mark.parametrize(
    ("filter_field", "expected"),
    [("updated_datetime", Counter()), ("updated_after", Counter({"g9uem95a": 1}))],
)
def test_an_old_request_closed_since_the_cursor_is_pulled_by_updated_after(
    server: respx.MockRouter, filter_field: str, expected: Counter[str]
) -> None:
    """The server's dates filter on requested_datetime: only updated_after lists the closing."""
    listing = server.get("/requests.json").mock(side_effect=by_its_bounds)
    since = datetime(2026, 12, 7, 22, 41, 56, tzinfo=UTC)
    connector = make(filter_field=filter_field)
    pulled = Counter(r["service_request_id"] for page in connector.pull(since) for r in page)
    assert pulled == expected
    assert connector.change_feed == "cursor"
    asked = listing.calls.last.request.url.params
    if filter_field == "updated_after":  # widened by a second: the server excludes both ends
        assert asked["updated_after"] == "2026-12-07T22:41:55Z" and "start_date" not in asked


@pytest.mark.e2e
def test_the_simulator_lists_by_updated_after_whatever_its_dates_filter_on() -> None:
    """A simulator filtering dates on requested_datetime: updated_after pulls the closing once."""
    state = seeded_state(130, NOW)
    app = create_app(state, filter_field="requested_datetime", page_size=100, jurisdiction_id="x")
    old = min(state.requests, key=lambda rid: state.requests[rid]["requested_datetime"])
    with serve_in_thread(app) as sim:
        connector = make(base_url=sim.url + "/open311/v2/", filter_field="updated_after")
        try:
            first = Counter(r["service_request_id"] for p in connector.pull(None) for r in p)
            state.close(old, "Sudah diperbaiki")
            later = [r for p in connector.pull(NOW - timedelta(minutes=1)) for r in p]
        finally:
            connector.close()
    assert len(first) == 130 and set(first.values()) == {1}
    assert [(r["service_request_id"], r["status"]) for r in later] == [(old, "closed")]


class MovingServer:
    """The server's newest-first pages of 100, its requests changed once page 1 was read."""

    def __init__(self, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
        self.current, self.after, self.calls = before, after, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        number = int(request.url.params.get("page", "1"))
        rows, size = self.current, 100
        if self.calls == 1:  # a request filed (or hidden) right after the first page
            self.current = self.after
        pages = -(-len(rows) // size)
        headers = {"X-Page-Count": str(pages), "X-Page-Size": str(size)}
        headers["X-Result-Count"] = str(len(rows))  # the recorded header names
        if number < pages:
            headers["X-Next-Page-URL"] = str(request.url.copy_merge_params({"page": number + 1}))
        return httpx.Response(200, json=rows[(number - 1) * size : number * size], headers=headers)


@pytest.mark.parametrize("change", ["filed", "hidden"])
def test_a_listing_that_moves_while_paged_is_read_again_whole(
    server: respx.MockRouter, change: str
) -> None:
    """A request filed or hidden between pages shifts them: the window is read again, and
    every request is pulled once (none lost to the shift, the new one included)."""
    records = seeded(130)
    new = {**records[0], "service_request_id": "baru", "updated_datetime": NOW.isoformat()}
    after = [new, *records] if change == "filed" else [r for r in records if r is not records[5]]
    moving = MovingServer(records, after)
    server.get("/requests.json").mock(side_effect=moving)
    connector = make()
    pulled = Counter(
        r["service_request_id"] for page in connector.pull(NOW - timedelta(days=30)) for r in page
    )
    assert pulled == Counter(r["service_request_id"] for r in after)
    assert moving.calls == 4  # two pages, then the same two again


class FilesAfterFirstPage(httpx.HTTPTransport):
    """The network, where a citizen files a request right after the first page is sent."""

    def __init__(self, state: Any) -> None:
        super().__init__()
        self.state, self.pages = state, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/requests.json"):
            self.pages += 1
            if self.pages == 1:
                stamp = NOW.isoformat()
                self.state.insert_raw(
                    {"status": "open", "requested_datetime": stamp, "updated_datetime": stamp}
                )
        return response


@pytest.mark.e2e
def test_the_simulator_pages_newest_first_and_a_request_filed_meanwhile_arrives_once() -> None:
    """Simulator pages of 100, newest first; one filed after page 1: 131 pulled, each once."""
    state = seeded_state(130, NOW)
    app = create_app(state, page_size=100, jurisdiction_id="x")
    with serve_in_thread(app) as sim:
        network = FilesAfterFirstPage(state)
        settings = make(base_url=sim.url + "/open311/v2/").options
        retry = RetrySettings(attempts=1, wait_initial=0, wait_max=0)
        connector = Open311Connector(
            "helsinki", settings, retry=retry, clock=lambda: NOW, transport=network
        )
        try:
            pulled = Counter(
                r["service_request_id"] for p in connector.pull(NOW - timedelta(days=10)) for r in p
            )
        finally:
            connector.close()
    assert len(state.requests) == 131
    assert pulled == Counter(dict.fromkeys(state.requests, 1))
    assert network.pages == 4  # two pages, the listing moved, the same two again
