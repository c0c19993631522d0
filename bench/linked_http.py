"""Linked sync and `bridge backfill` over HTTP with latency: one at a time against concurrent.

    .venv/bin/python bench/linked_http.py [--count 200] [--answers 2] [--latency 50]
        [--concurrency 1 16] [--backfill 200] [--rate 20]

Everything on loopback in this process (the simulators' uvicorn threads share the GIL with
the bridge), each run on fresh simulators and a fresh SQLite ledger, for each
``max_concurrency`` given (set on both connectors; 1 is the bridge one request at a time):

- **linked, SIDUMAS → LAPOR!**: ``--count`` complaints are brought over with no latency;
  officers then type ``--answers`` answers on every named one LAPOR! holds (LAPOR! takes
  no status writes from an agency), the simulators start holding every API request
  ``--latency`` ms, and one cycle carries the answers (listing, details, each complaint's
  follow-ups read on both sides, the answers posted). Timed: that cycle.
- **linked, LAPOR! → SIDUMAS**: ``--count`` complaints disposed to the agency are brought
  home with no latency; LAPOR!'s admin verifies each and posts ``--answers`` follow-ups on
  it; with latency on, one cycle carries follow-ups and status writes into SIDUMAS.
- **backfill, SIDUMAS → LAPOR!**: ``--backfill`` historic complaints in the door, LAPOR!
  empty, latency on from the start; ``run_backfill`` (what `bridge backfill` runs: a
  counting pass over the door, the adoption index from one pull of LAPOR!, then the run).

Each run checks its result: every answer once in the other system, every due complaint
created once. With ``--rate``, one more linked SIDUMAS → LAPOR! run at the highest
concurrency sets ``max_requests_per_second`` on both connectors and prints the most LAPOR!
requests the bridge sent within any one second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_vs_serial import Sims, _busiest_second, due, simulators
from bridge.config import load_config
from bridge.demo import BADUNG, DEMO_SECRETS, write_config
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.model import make_ref
from bridge.sync import Route, build_routes, close_routes, run_backfill, run_cycle

WRITES = ("followup", "status")


@dataclass(frozen=True)
class Figure:
    seconds: float
    work: int
    """Complaints carried (linked) or created (backfill)."""
    writes: int
    """Follow-ups and statuses written (linked); creates (backfill)."""
    busiest: int = 0
    """The most LAPOR! requests the bridge sent within one second of the timed part."""


@contextmanager
def _route(sims: Sims, name: str, concurrency: int, rate: float | None = None) -> Iterator[Route]:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_config(Path(tmp), sims.hub_url, sims.door_url, Path(tmp) / "bench.db")
        text = path.read_text(encoding="utf-8")
        for kind in ('type = "lapor"\n', 'type = "rest"\n'):
            text = text.replace(kind, f"{kind}max_concurrency = {concurrency}\n")
            if rate is not None:
                text = text.replace(kind, f"{kind}max_requests_per_second = {rate}\n")
        path.write_text(text, encoding="utf-8")
        config = load_config(path, environ=DEMO_SECRETS)
        with Ledger.open(config.ledger.url) as ledger:
            routes = build_routes(config, ledger, only=name)
            try:
                yield routes[0]
            finally:
                close_routes(routes)


def _latency(sims: Sims, ms: float) -> None:
    for url in (sims.hub_url, sims.door_url):
        httpx.post(f"{url}/_sim/faults", json={"latency_ms": ms}).raise_for_status()


def _timed_cycle(route: Route, sims: Sims, latency: float) -> tuple[float, dict[str, int]]:
    _latency(sims, latency)
    started = time.perf_counter()
    report = run_cycle(route)
    seconds = time.perf_counter() - started
    assert report.ok, report.error
    return seconds, {kind: report.counts.get(kind, 0) for kind in (*WRITES, "change")}


def door_answers(
    count: int, answers: int, latency: float, concurrency: int, rate: float | None = None
) -> Figure:
    """SIDUMAS officers answer; one cycle carries the answers into LAPOR!."""
    with simulators(0) as sims, _route(sims, "sidumas-to-lapor", concurrency, rate) as route:
        sims.seed(count)
        assert run_cycle(route).ok
        in_hub = {str(c.get("tags_raw")) for c in sims.hub.complaints.values() if c.get("tags_raw")}
        linked = [
            r
            for r in sims.door.records
            if any(make_ref("sidumas", str(r["id"])) in tags for tags in in_hub)
            and not r.get("hide_identitas")  # an anonim one's answers are scrubbed: kept simple
        ]
        before = _hub_followups(sims, "Jawaban ")
        for record in linked:
            for n in range(1, answers + 1):
                text = f"Jawaban {n} untuk aduan {record['id']}."
                sims.door.add_tanggapan(record["id"], {"tanggapan": text, "nama": "PUPR"})
        sent: list[float] = []
        hub_client = route.target._client  # type: ignore[attr-defined]  # the bench watches
        hub_client.event_hooks["request"].append(lambda _request: sent.append(time.monotonic()))
        seconds, counts = _timed_cycle(route, sims, latency)
        # Answers already in the seed are carried with them (the complaint changed).
        posted = _hub_followups(sims, "Jawaban ") - before
        assert posted == len(linked) * answers <= counts["followup"], (posted, counts)
        writes = counts["followup"] + counts["status"]
        return Figure(seconds, len(linked), writes, _busiest_second(sent))


def hub_answers(count: int, answers: int, latency: float, concurrency: int) -> Figure:
    """LAPOR!'s admin verifies and answers; one cycle carries both into SIDUMAS."""
    with simulators(0) as sims, _route(sims, "lapor-to-sidumas", concurrency) as route:
        sims.hub.seed_from_corpus(count)
        for tracking_id, complaint in sims.hub.complaints.items():
            if complaint["disposition_id"] != BADUNG:
                sims.hub.dispose(tracking_id, BADUNG)
        assert run_cycle(route).ok
        home = {r.get("ref_eksternal") for r in sims.door.records}
        carried = [t for t in sims.hub.complaints if make_ref("lapor", str(t)) in home]
        before = _door_answers(sims, "Tindak lanjut ")
        for tracking_id in carried:
            if sims.hub.complaints[tracking_id]["status_code"] == 0:
                sims.hub.verify(tracking_id)
            for n in range(1, answers + 1):
                text = f"Tindak lanjut {n} untuk laporan {tracking_id}."
                sims.hub.add_followup({"complaint_id": tracking_id, "content": text}, [])
        seconds, counts = _timed_cycle(route, sims, latency)
        typed = _door_answers(sims, "Tindak lanjut ") - before
        assert typed == len(carried) * answers <= counts["followup"], (typed, counts)
        return Figure(seconds, len(carried), counts["followup"] + counts["status"])


def _hub_followups(sims: Sims, text: str) -> int:
    return sum(
        text in str(f["content"]) for c in sims.hub.complaints.values() for f in c["followups"]
    )


def _door_answers(sims: Sims, text: str) -> int:
    return sum(
        text in str(t["tanggapan"]) for r in sims.door.records for t in r.get("tanggapans") or []
    )


def backfill(count: int, latency: float, concurrency: int) -> Figure:
    """``count`` historic SIDUMAS complaints into an empty LAPOR!, latency on throughout."""
    with simulators(latency) as sims, _route(sims, "sidumas-to-lapor", concurrency) as route:
        sims.seed(count)
        started = time.perf_counter()
        summary = run_backfill(
            route, since=date(2020, 1, 1), until=None, limit=None, dry_run=False, rate=None
        )
        seconds = time.perf_counter() - started
        assert summary.ok, summary.error
        tags = [str(c.get("tags_raw")) for c in sims.hub.complaints.values()]
        assert summary.created == len(tags) == len(set(tags)) == due(count), summary
        return Figure(seconds, summary.created, summary.created)


def _row(what: str, concurrency: int, figure: Figure, unit: str) -> str:
    per_second = figure.work / figure.seconds
    return (
        f"{what:32} {concurrency:>11}  {figure.seconds:8.2f} s  {figure.work:5} {unit:10} "
        f"{per_second:7.1f}/s  {figure.writes:5} writes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--answers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--backfill", type=int, default=200)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    configure_logging("console", "warning")
    print(f"latency {args.latency:g} ms on every API request of both simulators")
    print(f"{'what':32} {'concurrency':>11}  {'time':>10}  {'work':16} {'rate':>9}")
    runs: list[tuple[str, str, Callable[[int], Figure]]] = [
        ("linked SIDUMAS -> LAPOR!", "complaints", _bind(door_answers, args)),
        ("linked LAPOR! -> SIDUMAS", "complaints", _bind(hub_answers, args)),
        (
            "backfill SIDUMAS -> LAPOR!",
            "created",
            lambda c: backfill(args.backfill, args.latency, c),
        ),
    ]
    for what, unit, run in runs:
        figures = {c: run(c) for c in args.concurrency}
        for concurrency, figure in figures.items():
            print(_row(what, concurrency, figure, unit))
        first, last = figures[args.concurrency[0]], figures[args.concurrency[-1]]
        print(f"{'':32} {'ratio':>11}  {first.seconds / last.seconds:8.1f}x")
    if args.rate is not None:
        top = args.concurrency[-1]
        limited = door_answers(args.count, args.answers, args.latency, top, args.rate)
        print(
            f"linked SIDUMAS -> LAPOR! with max_requests_per_second={args.rate:g}: "
            f"{limited.seconds:.2f} s; busiest second as sent to LAPOR!: {limited.busiest} "
            f"requests ({'within' if limited.busiest <= args.rate else 'ABOVE'} the rate)"
        )


def _bind(
    run: Callable[[int, int, float, int], Figure], args: argparse.Namespace
) -> Callable[[int], Figure]:
    return lambda concurrency: run(args.count, args.answers, args.latency, concurrency)


if __name__ == "__main__":
    main()
