"""The cost of a cycle in which nothing changed, over N linked open complaints.

    .venv/bin/python bench/idle_cycle.py [--count 1000] [--budget 100]

The LAPOR! and SIDUMAS simulators run as separate processes (``bridge simulate``),
so the CPU time measured is the bridge's own. Both routes run until they make no
more writes; then three idle cycles of both routes are measured:

1. nothing due: no complaint is due for a re-poll (the normal case between polls);
2. everything due: the route's clock is moved a day ahead, so every linked
   complaint is due and only the re-poll budget bounds the requests;
3. the same again, right after (the polled ones are now scheduled later).

Requests are counted by the simulators themselves (``/_sim/stats``).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.sync import Route, build_routes, close_routes, run_cycle

WRITES = ("create", "link", "followup", "status", "forward")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(kind: str, seed: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bridge",
            "simulate",
            kind,
            "--port",
            str(port),
            "--seed",
            str(seed),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # a bench may poll for a server to come up
        try:
            httpx.get(f"{url}/_sim/stats", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the {kind} simulator did not start")


def requests_made(urls: list[str]) -> int:
    total = 0
    for url in urls:
        stats = httpx.get(f"{url}/_sim/stats", timeout=10).json()
        routes = stats.get("routes", {})
        total += sum(n for path, n in routes.items() if "/_sim" not in path)
    return total


def idle_cycle(routes: list[Route], urls: list[str]) -> tuple[int, float, int]:
    before = requests_made(urls)
    cpu = time.process_time()
    writes = 0
    for route in routes:
        report = run_cycle(route)
        assert report.ok, report.error
        writes += sum(report.counts.get(k, 0) for k in WRITES)
    return requests_made(urls) - before, time.process_time() - cpu, writes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--budget", type=int, default=100)
    args = parser.parse_args()
    configure_logging("console", "warning")
    os.environ.setdefault(
        "BRIDGE_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
    hub, hub_url = start_simulator("lapor", 0)
    door, door_url = start_simulator("sidumas", args.count)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_config(Path(tmp), hub_url, door_url, Path(tmp) / "bench.db")
            config = load_config(path, environ=DEMO_SECRETS)
            ledger = Ledger.open(config.ledger.url)
            routes = [replace(r, repoll_budget=args.budget) for r in build_routes(config, ledger)]
            for _ in range(20):  # converge: creates, first polls, follow-up copies
                if idle_cycle(routes, [hub_url, door_url])[2] == 0:
                    break
            later = datetime.now(UTC) + timedelta(days=1)
            ahead = [replace(r, clock=lambda: later) for r in routes]
            runs = [
                ("nothing due", idle_cycle(routes, [hub_url, door_url])),
                ("everything due (clock +1 day)", idle_cycle(ahead, [hub_url, door_url])),
                ("everything due, again", idle_cycle(ahead, [hub_url, door_url])),
            ]
            linked = ledger.links.count("sidumas")
            close_routes(routes)
            ledger.close()
    finally:
        hub.kill()
        door.kill()
    print(f"linked complaints:     {linked} (re-poll budget {args.budget} per route per cycle)")
    for name, (requests, cpu, writes) in runs:
        print(f"{name:32s} requests {requests:5d}   bridge CPU {cpu:.3f} s   writes {writes}")


if __name__ == "__main__":
    main()
