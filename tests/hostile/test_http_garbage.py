"""Whole answers that are garbage, at the HTTP level, for every HTTP connector (respx, no server).

A listing that cannot be parsed says nothing about any one record, so no record can be set
aside for it: the route stops this cycle with a ``ProtocolError`` (a ``RouteError``), the
cursor stays where it was, and nothing is created or quarantined.

Two raw bodies once crashed the cycle: a JSON "\ud800" escape (valid JSON that decodes to a
lone surrogate; now only its record is set aside) and a number of more than 4,300 digits,
which json.loads refuses with a plain ValueError (now a ProtocolError that stops the route).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.connector import Connector
from bridge.connectors.memory import MemoryConnector
from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.connectors.rest import RestConnector, RestSettings
from bridge.http import RetrySettings
from bridge.sync import Route, run_cycle
from tests.hostile.conftest import LAPOR_HOST, lapor_listing, lapor_other, respx_lapor, respx_route
from tests.hostile.corpus import load

ONCE = RetrySettings(attempts=1)


@dataclass(frozen=True)
class Kind:
    """One HTTP connector, its host, and how its listing answer is shaped."""

    name: str
    host: str
    build: Callable[[], Connector]
    mapping: str
    target_mapping: str
    envelope: Callable[[list[Any]], Any]
    good: dict[str, Any]
    is_listing: Callable[[str], bool]
    other: Callable[[httpx.Request, list[dict[str, Any]]], Any]


def _sidumas() -> Connector:
    settings = RestSettings(
        type="rest", base_url="https://sidumas.badungkab.go.id/api/", auth="login",
        username="bridge@badungkab.go.id", password="pw", token_path="data.token",
        list_path="pengaduan/list", records_path="data.data", last_page_path="data.last_page",
        detail_path="pengaduan/detail", detail_id_param="pengaduan_id", success_path="success",
    )  # fmt: skip
    return RestConnector("sidumas", settings, retry=ONCE)


def _sidumas_other(request: httpx.Request, records: list[dict[str, Any]]) -> Any:
    if request.url.path.endswith("/login"):
        return {"success": True, "data": {"token": "t0ken"}}
    wanted = request.url.params.get("pengaduan_id")
    match = [r for r in records if str(r.get("id")) == wanted]
    return {"success": True, "message": "", "data": match[0] if match else None}


def _open311() -> Connector:
    settings = Open311Settings(
        type="open311", base_url="https://311.badungkab.go.id/open311/v2/",
        start_date=datetime.now(UTC) - timedelta(days=1), window_days=30,
    )  # fmt: skip
    return Open311Connector("open311", settings, retry=ONCE)


def _open311_other(request: httpx.Request, records: list[dict[str, Any]]) -> Any:
    if found := re.search(r"/requests/([^/]+)\.json$", request.url.path):
        return [r for r in records if str(r.get("service_request_id")) == found.group(1)]
    return []  # updates


def _open311_good() -> dict[str, Any]:
    stamp = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    good = dict(load("open311").good[0])
    return {**good, "requested_datetime": stamp, "updated_datetime": stamp}


KINDS = [
    Kind(
        "lapor", LAPOR_HOST, respx_lapor, "lapor.toml", "sidumas.toml", lapor_listing,
        load("lapor").good[0], lambda path: path.endswith("/complaints"), lapor_other,
    ),
    Kind(
        "sidumas", "sidumas.badungkab.go.id", _sidumas, "sidumas.toml", "lapor.toml",
        lambda data: {"success": True, "message": "", "data": {"data": data, "last_page": 1}},
        load("sidumas").good[0], lambda path: path.endswith("/pengaduan/list"), _sidumas_other,
    ),
    Kind(
        "open311", "311.badungkab.go.id", _open311, "open311.toml", "lapor.toml",
        lambda data: data, _open311_good(), lambda path: path.endswith("/requests.json"),
        _open311_other,
    ),
]  # fmt: skip


@dataclass
class Served:
    """What the fake server answers to the listing: a JSON document, or raw bytes."""

    records: list[dict[str, Any]]
    raw: bytes | None = None


@dataclass
class Wired:
    kind: Kind
    route: Route
    target: MemoryConnector
    served: Served

    def cursor(self) -> str | None:
        return self.route.ledger.cycles.cursor(self.route.name, self.kind.name)

    def listing(self) -> bytes:
        return listing(self.kind, self.served.records)


def listing(kind: Kind, records: list[Any]) -> bytes:
    """The listing answer ``kind``'s server gives for ``records``, as bytes."""
    return json.dumps(kind.envelope(records)).encode()


@pytest.fixture(params=KINDS, ids=[k.name for k in KINDS])
def wired(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Wired]:
    """The connector against respx, into a memory target; one good record already delivered."""
    kind: Kind = request.param
    served = Served([kind.good])

    def respond(req: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if kind.is_listing(req.url.path):
            body = served.raw if served.raw is not None else listing(kind, served.records)
            return httpx.Response(200, content=body, headers=headers)
        return httpx.Response(200, json=kind.other(req, served.records))

    mappings = (kind.mapping, kind.target_mapping)
    with respx_route(
        f"{kind.name}-to-door", kind.host, kind.build, respond, mappings, tmp_path
    ) as route:
        first = run_cycle(route)
        assert first.ok, first.error
        assert first.counts["create"] == 1
        assert isinstance(route.target, MemoryConnector)
        yield Wired(kind, route, route.target, served)


def _spliced(body: bytes, marker: bytes, insert: bytes) -> bytes:
    assert marker in body
    return body.replace(marker, marker + insert, 1)


GARBAGE: dict[str, Callable[[Wired], bytes]] = {
    # One undecodable byte pair inside a text value: the answer is not UTF-8 JSON.
    "invalid-utf8": lambda w: _spliced(w.listing(), b'": "', b"\xff\xfe"),
    "an-html-error-page": lambda w: b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "truncated-json": lambda w: w.listing()[: len(w.listing()) // 2],
    "a-list-item-that-is-not-an-object": lambda w: listing(w.kind, [*w.served.records, "junk", 5]),
    "the-wrong-envelope": lambda w: json.dumps({"error": "maintenance", "data": "later"}).encode(),
}


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_a_garbage_answer_stops_the_route_and_keeps_the_cursor(wired: Wired, garbage: str) -> None:
    """ProtocolError for the cycle; the cursor, the target and the quarantine are untouched."""
    before = wired.cursor()
    wired.served.raw = GARBAGE[garbage](wired)

    report = run_cycle(wired.route)

    assert report.error is not None and report.error.startswith("ProtocolError"), report.error
    assert wired.cursor() == before
    assert (before is not None) == (wired.kind.name != "sidumas")  # SIDUMAS is a scan feed
    assert len(wired.target.records()) == 1
    assert wired.route.ledger.quarantine.listed() == []
    wired.served.raw = None
    assert run_cycle(wired.route).ok  # the next good answer goes through as before


def _hostile(kind: Kind, **changes: Any) -> dict[str, Any]:
    record = {**kind.good, **changes}
    key = "service_request_id" if kind.name == "open311" else "id"
    record[key] = 4242 if kind.name != "open311" else "4242"
    return record


def test_a_lone_surrogate_escape_sets_only_its_record_aside(wired: Wired) -> None:
    """JSON may carry "\\ud800" (valid JSON, not valid Unicode): that record is set aside."""
    text_key = {"lapor": "content", "sidumas": "uraian", "open311": "description"}[wired.kind.name]
    wired.served.records.append(_hostile(wired.kind, **{text_key: "Jalan \ud800 rusak"}))

    report = run_cycle(wired.route)

    assert report.ok, report.error
    [held] = wired.route.ledger.quarantine.listed()
    assert held.source_id == "4242" and held.field == "content"
    assert len(wired.target.records()) == 1


def test_a_number_too_long_to_parse_stops_the_route(wired: Wired) -> None:
    """A 5000-digit number makes the whole answer unparseable: ProtocolError, cursor kept."""
    before = wired.cursor()
    number = b"1" + b"0" * 5000
    wired.served.raw = _spliced(wired.listing(), b"[", b'{"id": ' + number + b"}, ")

    report = run_cycle(wired.route)

    assert report.error is not None and report.error.startswith("ProtocolError")
    assert wired.cursor() == before
