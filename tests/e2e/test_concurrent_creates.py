"""Creates sent concurrently over real HTTP keep the order of writes that "exactly once" needs.

Both routes of the demo run against the simulators with latency and jitter, so creates
overlap and end out of order. The target's ``create`` and the ledger's page commit are
watched: a create may start only once a separate connection to the ledger file sees its
intent committed, and a page (links, hashes, cursor) is committed only when none of its
creates is still in flight.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bridge.ledger import Ledger
from bridge.sync import CycleReport, Route, build_routes, close_routes, run_cycle
from tests.simulated import Sims

pytestmark = pytest.mark.e2e

CONCURRENCY = 4
# Only a failing bridge (creates sent one at a time) ever waits this long.
BARRIER_SECONDS = 60


@dataclass
class Watch:
    """What the watched route did, from the workers' threads and the engine's."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    first_two: threading.Barrier = field(default_factory=lambda: threading.Barrier(2))
    started: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    created: int = 0
    intent_missing: list[str] = field(default_factory=list)
    commits_with_creates_in_flight: int = 0
    cursors: list[str] = field(default_factory=list)


def _watch(route: Route, ledger_url: str) -> tuple[Watch, Ledger]:
    watch = Watch()
    other = Ledger.open(ledger_url)  # its own connection: sees only what was committed
    create: Callable[..., str] = route.target.create

    def watched_create(record: Any, attachments: Sequence[Any], ref: str) -> str:
        if ref not in other.creates.pending(route.name, route.target.name, [ref]):
            watch.intent_missing.append(ref)
        with watch.lock:
            watch.in_flight += 1
            watch.most_in_flight = max(watch.most_in_flight, watch.in_flight)
            watch.started += 1
            first_two = watch.started <= 2
        if first_two:
            # The first two creates wait for each other, so the proof never depends on the
            # latency of a loaded machine: a bridge that sends one create at a time never
            # brings the second here, the wait breaks, and most_in_flight stays 1.
            with contextlib.suppress(threading.BrokenBarrierError):
                watch.first_two.wait(timeout=BARRIER_SECONDS)
        try:
            return create(record, attachments, ref)
        finally:
            with watch.lock:
                watch.in_flight -= 1
                watch.created += 1

    memory = route.memory
    complete_page = memory.complete_page

    def watched_complete_page(*args: Any, **kwargs: Any) -> None:
        with watch.lock:
            if watch.in_flight:
                watch.commits_with_creates_in_flight += 1
        if kwargs.get("cursor") is not None:
            watch.cursors.append(kwargs["cursor"])
        complete_page(*args, **kwargs)

    route.target.create = watched_create  # type: ignore[method-assign]
    memory.complete_page = watched_complete_page  # type: ignore[method-assign]
    return watch, other


def _run(sims: Sims, route_name: str) -> tuple[Watch, CycleReport]:
    text = sims.config_path.read_text(encoding="utf-8")
    for kind in ('type = "lapor"\n', 'type = "rest"\n'):
        text = text.replace(kind, f"{kind}max_concurrency = {CONCURRENCY}\n")
    sims.config_path.write_text(text, encoding="utf-8")
    for url in (sims.hub.url, sims.door.url):
        faults = {"latency_ms": 5, "latency_jitter_ms": 40, "seed": 3}

        httpx.post(f"{url}/_sim/faults", json=faults).raise_for_status()
    config = sims.config()
    with Ledger.open(config.ledger.url) as ledger:
        routes = build_routes(config, ledger, only=route_name)
        watch, other = _watch(routes[0], config.ledger.url)
        try:
            report = run_cycle(routes[0])
        finally:
            close_routes(routes)
            other.close()
    return watch, report


def test_no_create_starts_before_its_intent_is_committed(sims: Sims) -> None:
    """SIDUMAS → LAPOR!, 4 creates at once: each intent is on disk before its create starts."""
    watch, report = _run(sims, "sidumas-to-lapor")
    assert report.ok, report.error
    assert watch.created == report.counts["create"] > CONCURRENCY
    assert watch.intent_missing == []
    # The proof means something only if creates really overlapped, and never beyond the bound.
    assert 1 < watch.most_in_flight <= CONCURRENCY
    assert all(n == 1 for n in sims.hub_copies().values())


def test_no_page_commits_while_one_of_its_creates_is_in_flight(sims: Sims) -> None:
    """LAPOR! → SIDUMAS (a cursor feed): each cursor is committed after every create returned."""
    sims.hub_state.seed_from_corpus(12)
    watch, report = _run(sims, "lapor-to-sidumas")
    assert report.ok, report.error
    assert watch.created == report.counts["create"] > 1
    assert watch.cursors, "the LAPOR! listing moved no cursor: nothing was proved"
    assert watch.commits_with_creates_in_flight == 0
    assert watch.intent_missing == []
    assert 1 < watch.most_in_flight <= CONCURRENCY
