"""Duplicate-check latency and memory with N complaints in the ledger (SQLite, PostgreSQL).

    .venv/bin/python bench/dedup_latency.py --backend sqlite --sizes 10000 1000000
    .venv/bin/python bench/dedup_latency.py --backend postgres --sizes 10000 1000000
    .venv/bin/python bench/dedup_latency.py --backend postgres --sizes 1000000 --reuse

For each size a fresh ledger is made (migrated by ``Ledger.open``), then filled:

- the 1,414 indexed originals of the labelled set (``bench/dedup_set.py``) through the
  ledger's own ``index``;
- synthetic complaints up to N, bulk-loaded (``executemany`` on SQLite, ``COPY`` on
  PostgreSQL; the key index dropped during the load and built after). Complaint *i*
  copies the normalised text (first 400 characters) and the MinHash band keys of corpus
  text *i mod 1,805*, each band kept with probability 0.1 and otherwise random, plus a
  random exact-text and reporter key: at 1M, each band of a real probe is shared by
  about 55 synthetic complaints, so the per-key cap and the candidate cap are exercised
  (a pessimistic ledger: every complaint has hundreds of near relatives). Each synthetic
  complaint is linked as a real one is: to its door's record and to LAPOR!, and one in ten
  to the probes' own door too (the candidate query asks the link table about each).

On PostgreSQL the load ends with ``VACUUM (ANALYZE)``: what autovacuum does to an
insert-only table (migration ``0012_dup_speed`` makes it do so after every 1 % of new
keys), so the key index's scans read the index alone. ``--reuse`` keeps the ledgers (the
PostgreSQL database ``lb_bench_dedup_<size>``, or ``/tmp/lb_bench_dedup_<size>.db``) and
measures again without loading when one holds the size already (the 1M load takes
minutes); ``--prefix`` names them apart.

Then a fresh subprocess (so its peak RSS is the check's alone) opens the ledger and
runs the whole check the engine runs in observe for every held-out probe (positives and
hard negatives): normalise + MinHash + reporter keys (``probe_of``), the candidate query
(one round trip), rapidfuzz on each candidate, ``decide``; the decisions already taken
are read once per page of 100, as observe does, outside the per-check timing. Reported: p50,
p99 and max of the whole check, p99 of the ledger part alone, the check's CPU time (p50,
p99) and ``probe_of``'s alone (p50, p99), the peak RSS, the share of positives whose
original is among the candidates (``found``; at 1M the ledger holds about 550 synthetic
copies of each original's text, which crowd it out: read it at 10k) and a digest of every
probe's set of candidates (equal digests: a change found the very same candidates).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dedup_eval import DATA, SECRET, complaint, index
from dedup_set import build_set, load_originals
from sqlalchemy import inspect

from bridge.dedup import DedupRules, decide, evidence, probe_of
from bridge.ledger import Ledger

CHUNK = 20_000
START = datetime(2017, 1, 1, tzinfo=UTC)


def load(url: str, size: int, data: Path, *, reuse: bool = False) -> float:
    """Fill a fresh ledger to ``size`` complaints; the seconds it took (0 when reused)."""
    if reuse and _filled(url, size):
        with Ledger.open(url) as ledger:  # migrated to this version's head
            _vacuum(ledger.db.engine)
        return 0.0
    _drop(url)
    started = time.perf_counter()
    originals, _ = build_set(data, "held-out")
    corpus = [probe_of(complaint(o), SECRET, o.at) for o in load_originals(data)]
    with Ledger.open(url) as ledger:
        index(ledger, originals)
        engine = ledger.db.engine
        first = 1_000_000_000  # synthetic ids, far above the real ones
        rng = random.Random(1)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX ix_dup_key_key_entry")
        print(f"  indexed the originals in {time.perf_counter() - started:.0f} s", flush=True)
        for start in range(0, max(0, size - len(originals)), CHUNK):
            count = min(CHUNK, size - len(originals) - start)
            rows = _synthetic(first + start, count, corpus, rng)
            _bulk(engine, *rows)
            if (start // CHUNK) % 10 == 9:
                done = start + count + len(originals)
                print(f"  {done:,} loaded, {time.perf_counter() - started:.0f} s", flush=True)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE INDEX ix_dup_key_key_entry ON dup_key (key, entry_id)")
        _vacuum(engine)
    return time.perf_counter() - started


def _filled(url: str, size: int) -> bool:
    """A ledger an earlier ``--reuse`` run loaded to ``size``, to the end."""
    try:
        with Ledger.open(url, create=False) as ledger, ledger.db.engine.connect() as conn:
            count = conn.exec_driver_sql("SELECT COUNT(*) FROM dup_entry").scalar()
            # The key index is dropped for the load and built again at its very end.
            index = inspect(conn).get_indexes("dup_key")
    except Exception:  # noqa: BLE001 - missing, outdated or half-made: load it again
        return False
    return count == size and any(i["name"] == "ix_dup_key_key_entry" for i in index)


def _vacuum(engine) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the visibility map and statistics autovacuum would have made."""
    if engine.dialect.name != "postgresql":
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True  # VACUUM cannot run in a transaction
        raw.cursor().execute("VACUUM (ANALYZE)")
        raw.driver_connection.autocommit = False
    finally:
        raw.close()


def _synthetic(first: int, count: int, corpus: list, rng: random.Random) -> tuple[list, ...]:
    complaints, links, entries, keys = [], [], [], []
    for n in range(first, first + count):
        model = corpus[n % len(corpus)]
        at = START + timedelta(seconds=rng.randint(0, 330 * 86400))
        complaints.append((n, f"syn-{n}", "door-a", str(n), at))
        links.append((n, "door-a", str(n), at))
        links.append((n, "lapor", str(n), at))
        if n % 10 == 0:
            links.append((n, "door-b", str(n), at))
        entries.append((n, n, f"{rng.getrandbits(128):032x}", model.text[:400], at))
        keys.append((f"t:{rng.getrandbits(128):032x}", n))
        keys.append((f"r:phone:{rng.getrandbits(128):032x}", n))
        for band, key in enumerate(model.bands):
            keys.append((key if rng.random() < 0.1 else f"b{band}:{rng.getrandbits(64):016x}", n))
    return complaints, links, entries, keys


def _bulk(engine, complaints: list, links: list, entries: list, keys: list) -> None:  # type: ignore[no-untyped-def]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            for table, columns, rows in (
                ("complaint", "id, ref, origin_system, origin_id, created_at", complaints),
                ("link", "complaint_id, system, remote_id, updated_at", links),
                ("dup_entry", "id, complaint_id, text_hash, text, at", entries),
                ("dup_key", "key, entry_id", keys),
            ):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:

            def naive(rows: list, at: int) -> list:
                return [
                    (*r[:at], r[at].replace(tzinfo=None).isoformat(" "), *r[at + 1 :]) for r in rows
                ]

            # The ledger's connections run in autocommit (it issues BEGIN itself): one
            # transaction per chunk here, not one per row.
            cur.execute("BEGIN")
            cur.executemany(
                "INSERT INTO complaint (id, ref, origin_system, origin_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                naive(complaints, 4),
            )
            cur.executemany(
                "INSERT INTO link (complaint_id, system, remote_id, updated_at) "
                "VALUES (?, ?, ?, ?)",
                naive(links, 3),
            )
            cur.executemany(
                "INSERT INTO dup_entry (id, complaint_id, text_hash, text, at) "
                "VALUES (?, ?, ?, ?, ?)",
                naive(entries, 4),
            )
            cur.executemany("INSERT INTO dup_key (key, entry_id) VALUES (?, ?)", keys)
        raw.commit()
    finally:
        raw.close()


def measure(url: str, data: Path) -> dict[str, float | str]:
    """The check per held-out probe, timed; run in a fresh process.

    Two passes over the probes: the first reads a ledger cold from disk (right after the
    load, or after a restart), the second as a running daemon finds it; figures are the
    second pass's, with the first's p99 beside them.
    """
    _, probes = build_set(data, "held-out")
    with Ledger.open(url, create=False) as ledger:
        cold = _timed(ledger, probes)
        warm = _timed(ledger, probes)
    assert cold["candidates digest"] == warm["candidates digest"]
    return {**warm, "cold p99 ms": cold["p99 ms"], "peak RSS MB": _peak_rss_mb()}


def _timed(ledger: Ledger, probes: list) -> dict[str, float | str]:
    rules = DedupRules()
    whole, ledger_part, cpu, probe_cpu = [], [], [], []
    found_refs, digest = [], hashlib.sha256()
    for n, item in enumerate(probes):
        if n % 100 == 0:  # as observe does: the decisions taken, once per page of 100
            ledger.duplicates.decisions([p.id for p in probes[n : n + 100]])
        t0, c0 = time.perf_counter(), time.process_time()
        probe = probe_of(complaint(item), SECRET, item.at)
        t1, c1 = time.perf_counter(), time.process_time()
        found = ledger.duplicates.candidates(probe, system="door-b", cap=rules.max_candidates)
        t2 = time.perf_counter()
        decide([evidence(probe, other) for other in found], rules)
        t3 = time.perf_counter()
        whole.append(t3 - t0)
        cpu.append(time.process_time() - c0)
        probe_cpu.append(c1 - c0)
        ledger_part.append(t2 - t1)
        refs = [other.ref for other in found]
        digest.update(repr((item.id, sorted(refs))).encode())
        if item.label:
            found_refs.append(f"o-{item.label}" in refs)
    whole.sort()
    ledger_part.sort()
    cpu.sort()
    probe_cpu.sort()
    pick = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000  # noqa: E731
    return {
        "checks": len(whole),
        "p50 ms": pick(whole, 0.5),
        "p99 ms": pick(whole, 0.99),
        "max ms": whole[-1] * 1000,
        "ledger p99 ms": pick(ledger_part, 0.99),
        "CPU p50 ms": pick(cpu, 0.5),
        "CPU p99 ms": pick(cpu, 0.99),
        "probe_of CPU p50 ms": pick(probe_cpu, 0.5),
        "probe_of CPU p99 ms": pick(probe_cpu, 0.99),
        "found": sum(found_refs) / len(found_refs),
        "candidates digest": digest.hexdigest()[:12],
    }


def _peak_rss_mb() -> float:
    """This process's peak RSS. Not ``ru_maxrss``: Linux carries that over from the parent
    across fork and exec, so a child of the loader would report the loader's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _url(backend: str, size: int, folder: str, prefix: str, port: int) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder}/{prefix}_{size}.db"
    return f"postgresql://postgres@127.0.0.1:{port}/{prefix}_{size}"


def _drop(url: str) -> None:
    """An empty ledger at ``url`` (its tables made by ``Ledger.open``)."""
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    import psycopg

    server, name = url.rsplit("/", 1)
    port = server.rsplit(":", 1)[1]
    admin = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--data", type=Path, default=DATA / "lapor-2017-complaints.jsonl")
    parser.add_argument("--measure", metavar="URL", help="only measure this filled ledger")
    parser.add_argument("--reuse", action="store_true", help="keep the ledgers; reuse filled ones")
    parser.add_argument("--prefix", default="lb_bench_dedup", help="the ledgers' name")
    parser.add_argument(
        "--pg-port", type=int, default=5432, help="the PostgreSQL server's port (127.0.0.1)"
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.data)))
        return
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        for size in args.sizes:
            folder = tempfile.gettempdir() if args.reuse else tmp
            url = _url(args.backend, size, folder, args.prefix, args.pg_port)
            seconds = load(url, size, args.data, reuse=args.reuse)
            command = [sys.executable, __file__, "--measure", url, "--data", str(args.data)]
            out = subprocess.run(
                command,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            figures = json.loads(out.strip().splitlines()[-1])
            print(
                f"{args.backend} {size:>9,} complaints (loaded in {seconds:.0f} s): "
                + ", ".join(
                    f"{k} {v:.4f}"
                    if k == "found"
                    else f"{k} {v:.2f}"
                    if isinstance(v, float)
                    else f"{k} {v}"
                    for k, v in figures.items()
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
