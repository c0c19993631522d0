"""CPU per complaint of a page's ledger work alone: intents, then links, hashes and cursor.

    .venv/bin/python bench/ledger_page.py [--count 10000] [--page-size 100] [--profile FILE]
    .venv/bin/python bench/ledger_page.py --ledger postgresql://USER@127.0.0.1:5432/DB

What the engine asks of the ledger for each page of new complaints, without the
engine: ``record_intents`` (with every create noted as sending, as a first pass
does), then ``complete_page`` with the results, the page's source observations and
the cursor. A SQLite file in WAL mode with ``synchronous=FULL`` by default (its fsyncs
are wall time, not CPU); a PostgreSQL URL to measure there (give an empty database
of its own). Prints CPU µs per complaint of each step.
"""

from __future__ import annotations

import argparse
import cProfile
import tempfile
import time
from pathlib import Path

from bridge.ledger import Ledger
from bridge.ledger.route import RouteLedger
from bridge.ledger.types import CreateIntent, CreateResult, SeenUpdate


def intent(i: int) -> CreateIntent:
    return CreateIntent(
        ref=f"BR-{i:08d}",
        origin_system="door",
        origin_id=str(i),
        source_hash=f"{i:064x}",
        target_system="hub",
        raw_status_code="0",
        raw_status_label="Menunggu",
        status="new",
        personal=("name", "phone"),
        anonymous=i % 5 == 0,
        ticket=f"SDM-2026-{i:07d}",
    )


def result(i: int) -> CreateResult:
    return CreateResult(f"BR-{i:08d}", "hub", f"L{i}", f"{i + 1:064x}", identity_sent=("name",))


def run(route: RouteLedger, count: int, page_size: int) -> tuple[float, float]:
    intents_cpu = page_cpu = 0.0
    for start in range(1, count + 1, page_size):
        numbers = range(start, min(start + page_size, count + 1))
        page = [intent(i) for i in numbers]
        cpu = time.process_time()
        route.record_intents(page, sending=[i.ref for i in page])
        intents_cpu += time.process_time() - cpu
        results = [result(i) for i in numbers]
        seen = [SeenUpdate(str(i), f"{i:064x}", "0", "Menunggu", "new") for i in numbers]
        cpu = time.process_time()
        route.complete_page(results, cursor=str(numbers[-1]), seen=seen)
        page_cpu += time.process_time() - cpu
    return intents_cpu, page_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--ledger", help="a PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--profile", help="write a cProfile of the run to this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(args.ledger or f"sqlite:///{Path(tmp) / 'bench.db'}")
        route = RouteLedger(ledger, "bench", "door", "hub")
        route.register()
        # CPU time, not wall: the figures hold on a busy machine (fsyncs are not in them).
        profile = cProfile.Profile(time.process_time) if args.profile else None
        if profile is not None:
            profile.enable()
        intents_cpu, page_cpu = run(route, args.count, args.page_size)
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        ledger.close()
    per = 1e6 / args.count
    print(f"complaints:     {args.count} (pages of {args.page_size})")
    print(f"record_intents: {intents_cpu * per:6.1f} µs CPU per complaint")
    print(f"complete_page:  {page_cpu * per:6.1f} µs CPU per complaint")
    print(f"both:           {(intents_cpu + page_cpu) * per:6.1f} µs CPU per complaint")


if __name__ == "__main__":
    main()
