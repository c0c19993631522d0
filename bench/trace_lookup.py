"""How long ``bridge trace`` takes to find a complaint by its ticket among N linked ones.

    .venv/bin/python bench/trace_lookup.py [--count 10000] [--lookups 200] [--ledger URL]

The ledger is filled through ``ledger.creates`` (what a sync writes: an intent per
SIDUMAS complaint with its SDM-… ticket, then the LAPOR! link), and ``history.find`` is
asked ``--lookups`` times for random tickets typed in lower case, by a ref and by an
unknown number; the median and 95th percentile of each are printed. Default ledger: a
SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from bridge.ledger import CreateIntent, CreateResult, Ledger

ROUTE = "sidumas-to-lapor"


def fill(ledger: Ledger, count: int) -> None:
    """``count`` SIDUMAS complaints with tickets, each linked to a LAPOR! record."""
    for start in range(0, count, 1000):
        numbers = range(start, min(start + 1000, count))
        ledger.creates.record_intents(
            ROUTE,
            [
                CreateIntent(
                    f"lb{n:016x}", "sidumas", str(n), f"h{n}", "lapor", ticket=f"SDM-2026-{n:06d}"
                )
                for n in numbers
            ],
        )
        ledger.creates.complete(
            ROUTE,
            [CreateResult(f"lb{n:016x}", "lapor", str(4_000_000 + n), f"t{n}") for n in numbers],
        )


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--ledger", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.ledger or f"sqlite:///{folder}/bench.db"
        with Ledger.open(url) as ledger:
            fill(ledger, args.count)
            pick = random.Random(15)
            cases: dict[str, Callable[[], object]] = {
                "by ticket (lower case)": lambda: ledger.history.find(
                    f" sdm-2026-{pick.randrange(args.count):06d} "
                ),
                "by ref": lambda: ledger.history.find(f"lb{pick.randrange(args.count):016x}"),
                "unknown number": lambda: ledger.history.find("SDM-1999-000000"),
            }
            assert len(ledger.history.find(f"sdm-2026-{args.count - 1:06d}")) == 1
            print(
                f"{args.count} linked complaints, {args.lookups} lookups each ({url.split(':')[0]})"
            )
            for name, call in cases.items():
                median, p95 = timed(call, args.lookups)
                print(f"  {name:24} median {median:6.2f} ms   p95 {p95:6.2f} ms")


if __name__ == "__main__":
    main()
