"""Complaints per second over real HTTP: SIDUMAS simulator → bridge → LAPOR! simulator.

    .venv/bin/python bench/http_throughput.py [--count 500]

Both simulators run in this process on loopback (uvicorn threads), so the figure
includes their work too: it is a floor for the bridge, not a ceiling. Each
complaint costs at least one create request, plus uploads for its attachments.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.sync import build_routes, close_routes, run_cycle
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import serve_in_thread
from bridge.testing.simulators.sidumas_state import SidumasState


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    configure_logging("console", "warning")  # a daemon logs at info; the bench measures the work
    hub_state, door_state = LaporState(), SidumasState()
    corpus = load_corpus()
    door_state.seed(args.count, (corpus * (args.count // len(corpus) + 1))[: args.count])
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve_in_thread(lapor.create_app(hub_state)) as hub,
        serve_in_thread(sidumas.create_app(door_state, per_page=100)) as door,
    ):
        path = write_config(Path(tmp), hub.url, door.url, Path(tmp) / "bench.db")
        config = load_config(path, environ=DEMO_SECRETS)
        ledger = Ledger.open(config.ledger.url)
        routes = build_routes(config, ledger)
        started = time.perf_counter()
        report = run_cycle(routes[0])
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        again = run_cycle(routes[0])
        again_s = time.perf_counter() - started
        close_routes(routes)
        ledger.close()
    created = report.counts["create"]
    assert report.ok and again.ok and again.counts.get("create", 0) == 0
    print(f"complaints seeded:     {args.count} ({created} created; rahasia ones withheld)")
    print(f"create cycle:          {elapsed:.2f} s = {args.count / elapsed:,.0f} complaints/s")
    print(f"unchanged cycle:       {again_s:.2f} s = {args.count / again_s:,.0f} complaints/s")
    print(f"LAPOR! creates:        {hub_state.create_count}")


if __name__ == "__main__":
    main()
