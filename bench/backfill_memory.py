"""Backfill throughput and peak memory, 10k vs 1M complaints: is memory flat?

    .venv/bin/python bench/backfill_memory.py [--sizes 10000 1000000] [--sources sql csv]

For each source and size: the data is written first (in this process), then the
backfill runs in a fresh subprocess, which reports its throughput and peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``: the data writing is not counted).

- ``sql``: a local MariaDB (root@127.0.0.1:3306, database ``bench_backfill``, dropped and
  re-created) in the typical PHP schema, read by the ``sql`` connector with
  ``mappings/pengaduan-php.toml``; rows bulk-inserted with ``executemany`` in chunks.
- ``csv``: one CSV file in the LAPOR! admin export's shape, read by the ``spreadsheet``
  connector with ``mappings/lapor-export.toml``.

Both go to a ``memory`` target with ``retain = false`` (it counts creates, keeps
nothing) with a SQLite ledger on disk. Texts cycle through ``bridge.testing.simulators.corpus``.
``--trace`` adds the top tracemalloc allocation sites to the child's report.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bridge.connectors.memory import MemoryConnector, MemorySettings  # noqa: E402
from bridge.ledger import Ledger  # noqa: E402
from bridge.log import configure_logging  # noqa: E402
from bridge.mapping import load_mapping  # noqa: E402
from bridge.sync import Route, run_backfill  # noqa: E402

MAPPINGS = REPO / "mappings"
DB_URL = "mysql://root@127.0.0.1:3306/bench_backfill"
CHUNK = 5_000
START = datetime(2023, 2, 1, 8, 0)
SCHEMA = (
    """CREATE TABLE masyarakat (nik VARCHAR(16) PRIMARY KEY, nama VARCHAR(35),
    username VARCHAR(25), telp VARCHAR(13))""",
    """CREATE TABLE pengaduan (id_pengaduan INT AUTO_INCREMENT PRIMARY KEY,
    tgl_pengaduan DATE NULL, nik VARCHAR(16) NULL, judul VARCHAR(100) NULL,
    isi_laporan LONGTEXT NULL, foto VARCHAR(255) NULL,
    status ENUM('0','proses','selesai') NOT NULL DEFAULT '0',
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    bridge_ref VARCHAR(40) NULL, INDEX pengaduan_cursor (updated_at, id_pengaduan))""",
    """CREATE TABLE tanggapan (id_tanggapan INT AUTO_INCREMENT PRIMARY KEY,
    id_pengaduan INT NOT NULL, tgl_tanggapan DATE NOT NULL, tanggapan TEXT NOT NULL,
    id_petugas INT NULL, INDEX tanggapan_of (id_pengaduan))""",
)
CITIZENS = 1_000
EXPORT_HEADER = [
    "Tracking ID",
    "Tanggal Laporan Masuk",
    "Nama Pelapor",
    "Klasifikasi Laporan",
    "ID Kategori",
    "Judul Laporan",
    "Isi Laporan Awal",
    "Tipe Laporan (Anonim/Rahasia)",
    "Status Laporan",
]


def texts() -> Iterator[tuple[str, str]]:
    from bridge.testing.simulators.corpus import load_corpus

    corpus = [(e.title[:100], e.body) for e in load_corpus()]
    while True:
        yield from corpus


# -- writing the data (parent process) ------------------------------------------------


def write_sql(count: int) -> None:
    import pymysql

    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with admin.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS bench_backfill")
        cur.execute("CREATE DATABASE bench_backfill CHARACTER SET utf8mb4")
        cur.execute("USE bench_backfill")
        for statement in SCHEMA:
            cur.execute(statement)
        citizens = [
            (f"{5103010000000000 + n}", f"Warga {n}", f"warga{n}", "0812") for n in range(CITIZENS)
        ]
        cur.executemany("INSERT INTO masyarakat VALUES (%s, %s, %s, %s)", citizens)
        rows: list[tuple[Any, ...]] = []
        source = texts()
        for i in range(count):
            title, body = next(source)
            at = START + timedelta(seconds=30 * i)
            rows.append((at.date(), f"{5103010000000000 + i % CITIZENS}", title, body, at))
            if len(rows) == CHUNK or i == count - 1:
                cur.executemany(
                    "INSERT INTO pengaduan (tgl_pengaduan, nik, judul, isi_laporan, updated_at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    rows,
                )
                rows = []
    admin.close()


def write_csv(count: int, path: Path) -> None:
    source = texts()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_HEADER)
        for i in range(count):
            title, body = next(source)
            at = START + timedelta(seconds=30 * i)
            category = 1 + i % 8
            writer.writerow(
                [
                    1_000_000 + i,
                    at.strftime("%d/%m/%Y %H:%M:%S"),
                    f"Warga {i}",
                    "Pengaduan",
                    category,
                    title,
                    body,
                    "Biasa",
                    "Dalam Proses",
                ]
            )


# -- the backfill (child process) -----------------------------------------------------


def source_route(kind: str, data: Path, ledger: Ledger) -> Route:
    from bridge.connectors.spreadsheet import SpreadsheetConnector, SpreadsheetSettings
    from bridge.connectors.sql import SqlConnector, SqlSettings

    hub = MemoryConnector("hub", MemorySettings(type="memory", retain=False))
    if kind == "sql":
        mapping = MAPPINGS / "pengaduan-php.toml"
        settings = SqlSettings(type="sql", url=DB_URL, mapping=str(mapping), hold_back_seconds=0)
        source: Any = SqlConnector("door", settings)
        target_mapping = MAPPINGS / "lapor.toml"
    else:
        mapping = MAPPINGS / "lapor-export.toml"
        sheet = SpreadsheetSettings(type="spreadsheet", path=str(data), id_column="Tracking ID")
        source = SpreadsheetConnector("export", sheet)
        target_mapping = MAPPINGS / "sidumas.toml"
    return Route(
        name=f"bench-{kind}",
        source=source,
        target=hub,
        source_mapping=load_mapping(mapping),
        target_mapping=load_mapping(target_mapping),
        ledger=ledger,
    )


def child(kind: str, count: int, data: Path, trace: bool) -> None:
    configure_logging("console", "warning")
    if trace:
        import tracemalloc

        tracemalloc.start(5)
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        route = source_route(kind, data, ledger)
        started = time.perf_counter()
        summary = run_backfill(
            route, since=date(2023, 1, 1), until=None, limit=None, dry_run=False, rate=None
        )
        seconds = time.perf_counter() - started
        route.source.close()
        ledger.close()
    result: dict[str, Any] = {
        "source": kind,
        "count": count,
        "created": summary.created,
        "set_aside": summary.set_aside,
        "seconds": round(seconds, 1),
        "per_second": round(count / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if trace:
        snapshot = tracemalloc.take_snapshot()
        result["top"] = [str(s) for s in snapshot.statistics("lineno")[:8]]
    print(json.dumps(result))


def measure(kind: str, count: int, work: Path, trace: bool) -> dict[str, Any]:
    data = work / "export.csv"
    if kind == "sql":
        write_sql(count)
    else:
        write_csv(count, data)
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--count",
        str(count),
        "--data",
        str(data),
    ]
    if trace:
        command.append("--trace")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--sources", nargs="+", default=["sql", "csv"], choices=["sql", "csv"])
    parser.add_argument("--trace", action="store_true", help="report tracemalloc top sites")
    parser.add_argument("--child", choices=["sql", "csv"], help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.count, args.data, args.trace)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.sources:
            for size in args.sizes:
                print(json.dumps(measure(kind, size, Path(tmp), args.trace)), flush=True)


if __name__ == "__main__":
    main()
