"""Hostile answers are bounded: size (after decompression), wall-clock time, nesting, shutdown.

Each test runs against a real server on 127.0.0.1 (``tests.rawserver``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge import http, shutdown
from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.connectors.rest import RestConnector, RestSettings
from bridge.errors import ProtocolError, ReadRefused, RetryableError, ShuttingDown
from bridge.http.body import MAX_JSON_DEPTH, nesting_depth, parse_json
from tests.rawserver import answer, gzip_bomb, json_answer, serve, trickle

ONCE = http.RetrySettings(attempts=1)
MiB = 1024 * 1024
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture(autouse=True)
def _no_stop_left_behind() -> Iterator[None]:
    yield
    shutdown.clear()


def lapor(url: str, **options: Any) -> LaporConnector:
    settings = LaporSettings(type="lapor", base_url=url, api_key="k", api_guid="g", **options)
    return LaporConnector("lapor", settings, retry=ONCE)


def rest(url: str, **options: Any) -> RestConnector:
    settings = RestSettings(type="rest", base_url=url, list_path="items", **options)
    return RestConnector("door", settings, retry=ONCE)


def get(client: httpx.Client, path: str, settings: http.HttpSettings) -> httpx.Response:
    return http.send(
        client, lambda c: c.get(path), ONCE, idempotent=True, context="t", bounds=settings.bounds()
    )


def test_a_gzip_bomb_stops_at_the_limit_on_decompressed_bytes() -> None:
    """An 8 MiB body gzipped to kilobytes is refused once 1 MiB is decoded, naming the key."""
    with (
        serve({"/items": gzip_bomb(8 * MiB)}) as server,
        rest(server.url, max_response_bytes=MiB) as door,
        pytest.raises(ProtocolError, match=r"larger than 1048576 bytes.*max_response_bytes"),
    ):
        list(door.pull())


def test_an_oversize_listing_is_refused_before_it_is_read() -> None:
    """A listing larger than max_response_bytes stops the route instead of filling memory."""
    body = json.dumps({"results": {"data": [{"id": 1, "x": "a" * 2 * MiB}]}}).encode()
    with (
        serve({"/complaints": answer(body)}) as server,
        lapor(server.url, max_response_bytes=MiB) as hub,
        pytest.raises(ProtocolError, match="max_response_bytes"),
    ):
        list(hub.pull())


def test_an_answer_under_the_limit_is_read_whole() -> None:
    """An ordinary gzipped answer comes through decoded, as before."""
    import gzip

    body = gzip.compress(json.dumps({"results": {"data": [], "next_page_url": None}}).encode())
    handler = answer(body, headers={"Content-Encoding": "gzip"})
    with serve({"/complaints": handler}) as server, lapor(server.url) as hub:
        assert list(hub.pull()) == []


def test_a_trickling_answer_ends_at_the_request_deadline() -> None:
    """A server sending a byte every 0.1 s never trips a read timeout, but the deadline ends it."""
    closing = threading.Event()
    with serve({"/items": trickle(closing, every=0.1)}) as server:
        server_settings = http.HttpSettings(request_deadline=1.0)
        with (
            http.make_client(server.url, headers={}, http=server_settings) as client,
            pytest.raises(RetryableError, match="request deadline"),
        ):
            get(client, "/items", server_settings)
        closing.set()


def test_a_stop_request_abandons_a_trickling_answer() -> None:
    """When the bridge is told to stop, a request in the middle of an answer gives up."""
    closing, started = threading.Event(), threading.Event()
    outcome: list[BaseException] = []
    settings = http.HttpSettings(request_deadline=3600)

    def call() -> None:
        with http.make_client(server.url, headers={}, http=settings) as client:
            try:
                get(client, "/items", settings)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome.append(exc)

    with serve({"/items": trickle(closing, started, every=0.1)}) as server:
        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        assert started.wait(30)
        shutdown.request_stop()
        worker.join(30)
        assert not worker.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ShuttingDown)


def test_no_request_starts_once_the_bridge_is_stopping() -> None:
    """After a stop request, a new request is not even sent."""
    with serve({"/items": json_answer([])}) as server:
        settings = http.HttpSettings()
        with http.make_client(server.url, headers={}, http=settings) as client:
            shutdown.request_stop()
            with pytest.raises(ShuttingDown):
                get(client, "/items", settings)
        assert server.requests == []


def test_deeply_nested_json_is_a_protocol_error_not_a_recursion_error() -> None:
    """An answer nested 100,000 deep is refused as bad JSON; the cycle is not crashed."""
    with (
        serve({"/complaints": answer(DEEP)}) as server,
        lapor(server.url) as hub,
        pytest.raises(ProtocolError, match=f"deeper than {MAX_JSON_DEPTH}"),
    ):
        list(hub.pull())


def test_deeply_nested_error_bodies_are_read_as_no_message() -> None:
    """A 422 (REST) or 400 (Open311) whose body is nested too deep is still a plain refusal."""
    with (
        serve({"/items": answer(DEEP, status=422)}) as server,
        rest(server.url) as door,
        pytest.raises(ReadRefused, match="HTTP 422"),
    ):
        door.get("1")
    handler = answer(DEEP, status=400)
    with serve({"/requests.json": handler}) as server:
        settings = Open311Settings(type="open311", base_url=server.url)
        with (
            Open311Connector("o", settings, retry=ONCE) as door,
            pytest.raises(ReadRefused, match="HTTP 400: Bad Request"),
        ):
            list(door.pull())


def test_nesting_depth_skips_brackets_inside_strings() -> None:
    """Brackets in strings (escaped quotes too) do not count; nesting stops counting early."""
    assert nesting_depth(b'{"a": "[[[[\\"[[["}') == 1
    assert nesting_depth(b"[[1], [[2]]]") == 3
    assert parse_json(b'{"a": [1]}') == {"a": [1]}
    with pytest.raises(ValueError, match="nested deeper"):
        parse_json(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
