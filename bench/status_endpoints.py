"""Answer times of the daemon's HTTP endpoints, and the cost of a snapshot, over N linked
complaints.

    .venv/bin/python bench/status_endpoints.py [--count 10000] [--requests 200] [--ledger URL]

The ledger is filled in bulk (``tests.daemon.ledger_fill``: the rows a sync leaves), the
status service starts on a free loopback port, and each endpoint is asked ``--requests``
times over real HTTP; the median and the 95th percentile are printed. The snapshot (what
the endpoints answer from, retaken after every cycle) and the SLA deadline list
(what `bridge sla` computes) are timed apart, and so is the whole `bridge sla --json` command
beside `bridge --version` (the CLI's start-up alone). Default ledger: a SQLite file in a
temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.daemon.ledger_fill

from bridge.config import BridgeConfig, DaemonSettings, LedgerSettings, RouteSettings
from bridge.daemon import StatusService
from bridge.daemon.snapshot import take_snapshot
from bridge.ledger import Ledger
from bridge.sla import agency_zone, deadlines, sla_calendar
from tests.daemon.ledger_fill import ROUTE, fill

PATHS = ("/livez", "/readyz", "/metrics", "/status.json", "/status")


def timed(call: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return times


def line(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"{name:<14} median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms"


def _quiet(command: list[str]) -> None:
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--ledger", default=None, help="ledger URL (default: a SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-status-"))
    url = args.ledger or f"sqlite:///{folder / 'bridge.db'}"
    settings = BridgeConfig(
        ledger=LedgerSettings(url=url),
        routes=(RouteSettings(name=ROUTE, source="sidumas", target="lapor"),),
        daemon=DaemonSettings(http="127.0.0.1:0"),
    )
    with Ledger.open(url) as ledger:
        fill(ledger, args.count, datetime.now(UTC))
        print(f"{args.count} linked complaints, ledger {ledger.url_for_display}")
        print(line("snapshot", timed(lambda: take_snapshot(ledger, settings), 5)))
        calendar, zone = sla_calendar(settings), agency_zone(settings)
        print(line("sla deadlines", timed(lambda: deadlines(ledger, calendar, zone), 5)))
        config = folder / "bridge.toml"
        config.write_text(f'[ledger]\nurl = "{url}"\n', encoding="utf-8")
        bridge = str(Path(sys.executable).with_name("bridge"))
        command = [bridge, "sla", "--config", str(config), "--json", "--due", "3650d"]
        print(line("bridge sla", timed(lambda: _quiet(command), 3)))
        print(line("bridge --version", timed(lambda: _quiet([bridge, "--version"]), 3)))
        service = StatusService(settings, ledger)
        service.start()
        service.running.set()
        base = f"http://127.0.0.1:{service.server.port}"
        try:
            with httpx.Client(base_url=base) as client:
                for path in PATHS:
                    client.get(path).raise_for_status()  # warm up
                    print(line(path, timed(lambda p=path: client.get(p), args.requests)))
        finally:
            service.stop()


if __name__ == "__main__":
    main()
