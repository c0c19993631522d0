"""Creates in flight together: a page that stops keeps every create its target confirmed."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bridge.errors import RateLimited
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import Route, run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route

WAIT = 30  # seconds a worker waits for its cue before the test gives up (never reached)


def _route(ledger: Ledger, count: int, concurrency: int) -> Route:
    route = replace(make_route(ledger, page_size=50))
    for i in range(1, count + 1):
        door_of(route).put(door_record(i))
    hub_of(route).max_concurrency = concurrency
    return route


def _refs(*ids: int) -> list[str]:
    return [make_ref("door", str(i)) for i in ids]


def test_a_429_stops_the_page_yet_every_create_in_flight_is_kept(ledger: Ledger) -> None:
    """1 and 2 are in flight when 3 gets a 429: each confirmed create is linked, none redone."""
    route = _route(ledger, 10, concurrency=4)
    hub = hub_of(route)
    real_create = hub.create
    limited = threading.Event()
    lock = threading.Lock()  # the memory connector is not made for threads; the HTTP ones are
    started: list[str] = []

    def create(record: dict[str, Any], attachments: Sequence[Any], ref: str) -> str:
        started.append(ref)
        title = str(record.get("title", ""))
        if title.endswith("Banjar 3"):
            limited.set()
            raise RateLimited("hub: HTTP 429", retry_after=0)
        if title.endswith(("Banjar 1", "Banjar 2")):
            assert limited.wait(WAIT)  # still in flight when the 429 arrives
        with lock:
            return real_create(record, attachments, ref)

    hub.create = create  # type: ignore[method-assign]
    report = run_cycle(route)

    assert not report.ok and "429" in (report.error or "")
    [limited_ref] = _refs(3)
    assert set(_refs(1, 2, 3)) <= set(started)
    # Every create the hub confirmed is linked, though the page stopped (its cursor did not move).
    kept = [ref for ref in started if ref != limited_ref]
    assert all(route.memory.target_link(ref) is not None for ref in kept)
    assert route.memory.target_link(limited_ref) is None
    assert set(_refs(1, 2)) <= set(kept) and len(hub.records()) == len(kept) < 10

    hub.create = real_create  # type: ignore[method-assign]
    again = run_cycle(route)
    assert again.ok, again.error
    assert again.counts["create"] == 10 - len(kept) and len(hub.records()) == 10


def test_creates_run_together_up_to_the_target_s_max_concurrency(ledger: Ledger) -> None:
    """With max_concurrency 3, three creates are in flight at once and never a fourth."""
    route = _route(ledger, 9, concurrency=3)
    hub = hub_of(route)
    real_create = hub.create
    lock = threading.Lock()
    in_flight, most = 0, 0
    three_in_flight = threading.Barrier(3, timeout=WAIT)

    def create(record: dict[str, Any], attachments: Sequence[Any], ref: str) -> str:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        three_in_flight.wait()  # the first three meet here: they were in flight together
        with lock:
            in_flight -= 1
            return real_create(record, attachments, ref)

    hub.create = create  # type: ignore[method-assign]
    report = run_cycle(route)
    assert report.ok, report.error
    assert report.counts["create"] == 9 and most == 3
