"""Complaints per second through the engine: memory connectors, SQLite ledger on disk.

    .venv/bin/python bench/engine_throughput.py [--count 10000] [--page-size 100]

Measures one full cycle that creates every complaint (map, hash, plan, record
intents, create, link, commit per page), then a second cycle in which nothing
changed. The ledger is a real SQLite file (WAL), so every page pays its commits.
Both wall-clock and this process's CPU seconds are printed: on a shared machine the
CPU figure is the steadier one (it leaves out the waits for the disk's fsync).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.mapping import load_mapping
from bridge.sync import Route, run_cycle
from bridge.testing.simulators.corpus import load_corpus

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"


def door_record(i: int, title: str, body: str) -> dict[str, object]:
    return {
        "id": str(i),
        "no_tiket": f"SDM-2026-{i:07d}",
        "topik": title,
        "uraian": body,
        "tanggal": "2026-03-01 10:00:00",
        "pelapor": f"Warga {i}",
        "user_id": i,
        "nik": f"{5103010000000000 + i}",
        "telp": f"0812{i:08d}",
        "email": f"warga{i}@example.id",
        "kategori_id": 1 + i % 8,
        "status": 0,
        "status_pengaduan": "Menunggu",
        "koordinat_lat": -8.6,
        "koordinat_lng": 115.2,
        "alamat": "Jl. Raya Kuta",
        "hide_identitas": int(i % 5 == 0),
        "hide_pengaduan": 0,
        "opd_id": 12,
        "files": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    configure_logging("console", "warning")  # a daemon logs at info; the bench measures the work
    corpus = load_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        door = MemoryConnector(
            "door",
            MemorySettings(type="memory", store="door", feed="scan", page_size=args.page_size),
        )
        for i in range(1, args.count + 1):
            entry = corpus[i % len(corpus)]
            door.put(door_record(i, entry.title, entry.body))
        route = Route(
            name="bench",
            source=door,
            target=MemoryConnector("hub", MemorySettings(type="memory", store="hub")),
            source_mapping=load_mapping(MAPPINGS / "sidumas.toml"),
            target_mapping=load_mapping(MAPPINGS / "lapor.toml"),
            ledger=ledger,
        )
        started, cpu = time.perf_counter(), time.process_time()
        first = run_cycle(route)
        first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        second = run_cycle(route)
        second_s, second_cpu = time.perf_counter() - started, time.process_time() - cpu
        ledger.close()
    assert first.ok and first.counts["create"] == args.count, first.counts
    assert second.ok and second.counts.get("create", 0) == 0, second.counts
    print(f"complaints:            {args.count} (page size {args.page_size})")
    print(f"create cycle:          {first_s:.2f} s = {args.count / first_s:,.0f} complaints/s")
    print(f"unchanged cycle:       {second_s:.2f} s = {args.count / second_s:,.0f} complaints/s")
    # CPU seconds of this process: what a quiet core would take, less the waits for fsync.
    for name, cpu_s in (("create cycle, CPU:", first_cpu), ("unchanged cycle, CPU:", second_cpu)):
        print(f"{name:22} {cpu_s:.2f} s = {args.count / cpu_s:,.0f} complaints/s")


if __name__ == "__main__":
    main()
