"""The chaos run's "lost ledger" phase: the ledger swapped for an old copy, or for nothing.

An admin's worst week: the ledger restored from last night's backup, or a container
started without its volume. The fleet is SIGKILLed, the ledger replaced, the bridge
refuses to start on it (``bridge.daemon.ledger_guard``), the admin runs the command the
refusal names (``bridge ledger accept --yes``), and the fleet starts again. The count
at the end must still find every complaint and follow-up exactly once.

SQLite ledgers get both swaps (an online backup taken earlier, and a deleted file);
PostgreSQL ledgers the "lost" one (every table dropped), as a restore there is a
``pg_restore`` this harness does not script.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from bridge.demo import DEMO_SECRETS
from bridge.ledger.db import normalise_url

OLD_COPY = "restored from an old copy"
LOST = "lost"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite ledger URL; None for any other database."""
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def snapshot(url: str, into: Path) -> bool:
    """An online copy of a running SQLite ledger (what a nightly backup holds)."""
    path = sqlite_path(url)
    if path is None or not path.exists():
        return False
    source, copy = sqlite3.connect(path), sqlite3.connect(into)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return True


def replace_ledger(url: str, kind: str, old_copy: Path | None) -> None:
    """Put an old copy in the ledger's place, or leave no ledger at all (fleet stopped)."""
    path = sqlite_path(url)
    if path is None:
        _drop_every_table(url)
        return
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    if kind == OLD_COPY and old_copy is not None:
        path.write_bytes(old_copy.read_bytes())


def accept(config: Path, log: Path) -> None:
    """What the admin runs after the refusal: `bridge ledger accept --yes` (must succeed)."""
    with log.open("ab") as out:
        subprocess.run(
            [sys.executable, "-m", "bridge", "ledger", "accept", "--yes", "--config", str(config)],
            env={**os.environ, **DEMO_SECRETS},
            stdout=out,
            stderr=out,
            check=True,
            timeout=300,
        )


def _drop_every_table(url: str) -> None:
    engine = sa.create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
