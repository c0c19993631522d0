"""The bridge against a serial cron copier, same simulators, same latency, in one run.

    .venv/bin/python bench/http_vs_serial.py [--count 200] [--latencies 0 20 50 200]
        [--concurrency 16] [--rate 20]

For each latency, two fresh pairs of simulators (SIDUMAS door and LAPOR! hub, loopback,
every API request of both held ``latency`` ms by the simulators' fault switch) are seeded
alike. The serial copier (bench/serial_copier.py: list, GET detail, files, POST create,
one request at a time) fills one hub; ``run_cycle`` of the bridge's SIDUMAS → LAPOR!
route fills the other, with ``max_concurrency`` on both connectors. The two hubs must then
hold the same complaints, each once, and a second bridge cycle must create nothing.
With ``--rate``, one more bridge run at the last latency sets
``max_requests_per_second`` on both connectors and the hub's arrival times are checked:
no one-second window holds more requests than the rate.

Everything runs in this process (the simulators' uvicorn threads share the GIL with the
bridge and the copier alike), so both figures are floors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serial_copier import copy_serially
from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.sync import CycleOptions, build_routes, close_routes, run_cycle
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import serve_in_thread
from bridge.testing.simulators.sidumas_state import SidumasState


@dataclass
class Sims:
    door_url: str
    hub_url: str
    door: SidumasState
    hub: LaporState
    arrivals: list[float]
    """When each hub API request arrived (monotonic seconds)."""

    def seed(self, count: int) -> None:
        """``count`` complaints appear in the door (the same ones for every run)."""
        corpus = load_corpus()
        self.door.seed(count, (corpus * (count // len(corpus) + 1))[:count])


@contextmanager
def simulators(latency_ms: float) -> Iterator[Sims]:
    """An empty SIDUMAS and an empty LAPOR!, both answering after ``latency_ms``."""
    hub_state, door_state = LaporState(), SidumasState()
    hub_app = lapor.create_app(hub_state)
    arrivals: list[float] = []
    _record_arrivals(hub_app, arrivals)
    with (
        serve_in_thread(hub_app) as hub,
        serve_in_thread(sidumas.create_app(door_state, per_page=100)) as door,
    ):
        for url in (hub.url, door.url):
            httpx.post(f"{url}/_sim/faults", json={"latency_ms": latency_ms}).raise_for_status()
        yield Sims(door.url, hub.url, door_state, hub_state, arrivals)


def _record_arrivals(app: FastAPI, arrivals: list[float]) -> None:
    @app.middleware("http")
    async def stamp(request: Request, call_next: Any) -> Any:
        if not request.url.path.startswith("/_sim/"):
            arrivals.append(time.monotonic())
        return await call_next(request)


def due(count: int) -> int:
    """How many of ``count`` seeded complaints may go to LAPOR! (confidential ones stay home)."""
    door = SidumasState()
    corpus = load_corpus()
    door.seed(count, (corpus * (count // len(corpus) + 1))[:count])
    return sum(1 for r in door.records if not r.get("hide_pengaduan"))


def copies(state: LaporState) -> Counter[tuple[str, str]]:
    """What a hub holds, as (title, content) → how many times."""
    return Counter((str(c.get("title")), str(c.get("content"))) for c in state.complaints.values())


def run_serial(count: int, latency_ms: float) -> tuple[float, Counter[tuple[str, str]]]:
    with simulators(latency_ms) as sims, tempfile.TemporaryDirectory() as tmp:
        sims.seed(count)
        routes, ledger = _routes(Path(tmp), sims, concurrency=1, rate=None)
        route = routes[0]
        secrets = DEMO_SECRETS
        started = time.perf_counter()
        copy_serially(
            f"{sims.door_url}/api/",
            {
                "email": secrets["BRIDGE_CONNECTORS__SIDUMAS__USERNAME"],
                "password": secrets["BRIDGE_CONNECTORS__SIDUMAS__PASSWORD"],
            },
            sims.hub_url,
            {
                "auth": f"Bearer {secrets['BRIDGE_CONNECTORS__LAPOR__API_KEY']}",
                "token": secrets["BRIDGE_CONNECTORS__LAPOR__API_GUID"],
            },
            route.source_mapping,
            route.target_mapping,
            route.target.options.identity(),  # as the bridge's LAPOR! connector sends it
        )
        elapsed = time.perf_counter() - started
        close_routes(routes)
        ledger.close()
        return elapsed, copies(sims.hub)


@dataclass
class BridgeRun:
    seconds: float
    copies: Counter[tuple[str, str]]
    busiest_second: int
    """The most hub requests that arrived within any one second (stamped by the hub)."""
    busiest_sent: int
    """The most hub requests the bridge sent within any one second (stamped as sent)."""


def run_bridge(
    count: int,
    latency_ms: float,
    concurrency: int,
    rate: float | None,
    *,
    first_pass: bool = False,
    followups: bool = False,
) -> BridgeRun:
    """One bridge cycle of the route; without ``followups``, complaints only (as the copier).

    Without ``first_pass`` the route has made its first pass over the empty door before
    the complaints appear, as a daemon that runs every night has: new complaints are
    created at once. With it, the ledger is new, so each create is first searched for by
    reference in LAPOR! (it may hold a copy from before): one more request per complaint.
    """
    options = CycleOptions(linked_sync=followups)
    with simulators(latency_ms) as sims, tempfile.TemporaryDirectory() as tmp:
        routes, ledger = _routes(Path(tmp), sims, concurrency=concurrency, rate=rate)
        sent: list[float] = []
        hub_client = routes[0].target._client  # the bench watches what the bridge sends
        hub_client.event_hooks["request"].append(lambda _request: sent.append(time.monotonic()))
        if not first_pass:
            assert run_cycle(routes[0], options=options).ok
            sims.arrivals.clear()
            sent.clear()
        sims.seed(count)
        started = time.perf_counter()
        report = run_cycle(routes[0], options=options)
        elapsed = time.perf_counter() - started
        again = run_cycle(routes[0], options=options)
        close_routes(routes)
        ledger.close()
        assert report.ok and again.ok, (report.error, again.error)
        assert again.counts.get("create", 0) == 0, "a second cycle created again"
        busiest = _busiest_second(sims.arrivals)
        return BridgeRun(elapsed, copies(sims.hub), busiest, _busiest_second(sent))


def _busiest_second(arrivals: list[float]) -> int:
    """The most arrivals in any window [t, t + 1 s) starting at an arrival."""
    times, most, first = sorted(arrivals), 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def _routes(tmp: Path, sims: Sims, *, concurrency: int, rate: float | None) -> tuple[Any, Ledger]:
    path = write_config(tmp, sims.hub_url, sims.door_url, tmp / "bench.db")
    extra = f"max_concurrency = {concurrency}\n"
    if rate is not None:
        extra += f"max_requests_per_second = {rate}\n"
    text = path.read_text(encoding="utf-8")
    for kind in ('type = "lapor"\n', 'type = "rest"\n'):
        text = text.replace(kind, kind + extra)
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ=DEMO_SECRETS)
    ledger = Ledger.open(config.ledger.url)
    return build_routes(config, ledger, only="sidumas-to-lapor"), ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--latencies", type=float, nargs="+", default=[0, 20, 50, 200])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    configure_logging("console", "warning")
    print(f"{args.count} SIDUMAS complaints → LAPOR!, bridge max_concurrency={args.concurrency}")
    print("bridge: a nightly run (first pass made); first pass: new ledger, creates searched")
    print("latency   serial copier   bridge   ratio   first pass   ratio   same complaints, once")
    for latency in args.latencies:
        serial_s, serial_copies = run_serial(args.count, latency)
        bridge = run_bridge(args.count, latency, args.concurrency, None)
        first = run_bridge(args.count, latency, args.concurrency, None, first_pass=True)
        # The same (title, content) pairs as often: the corpus repeats beyond its size, and the
        # copier's count is right by construction (it visits each listed record once).
        same = bridge.copies == first.copies == serial_copies
        print(
            f"{latency:5.0f} ms  {serial_s:11.2f} s  {bridge.seconds:5.2f} s  "
            f"{serial_s / bridge.seconds:5.1f}x  {first.seconds:9.2f} s  "
            f"{serial_s / first.seconds:5.1f}x   {'yes' if same else 'NO'} "
            f"({sum(bridge.copies.values())} created)"
        )
        assert same, "the bridge and the serial copier did not put the same complaints in LAPOR!"
        assert sum(serial_copies.values()) == due(args.count), "a complaint was missed"
    if args.rate is not None:
        latency = args.latencies[-1]
        limited = run_bridge(args.count, latency, args.concurrency, args.rate)
        print(
            f"with max_requests_per_second={args.rate:g} at {latency:g} ms: "
            f"{limited.seconds:.2f} s; busiest second as sent: {limited.busiest_sent} requests "
            f"({'within' if limited.busiest_sent <= args.rate else 'ABOVE'} the rate); "
            f"as stamped by the hub in this process: {limited.busiest_second}"
        )


if __name__ == "__main__":
    main()
