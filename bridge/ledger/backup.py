"""Copies of a SQLite ledger, and the PostgreSQL commands that do the same.

SQLite copies go through ``sqlite3.Connection.backup`` both ways: a backup is a
consistent snapshot even while the daemon writes (WAL included), and a restore writes
through SQLite itself, so no stale ``-wal`` file is ever replayed over the restored
pages (copying the file by hand would risk exactly that).

For PostgreSQL the bridge does not shell out: ``pg_dump``/``pg_restore`` may be missing
or another version than the server, and a database administrator usually owns them.
``pg_commands`` gives the exact commands instead.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL

from bridge.errors import ConfigError
from bridge.ledger.db import SQLITE_BUSY_TIMEOUT_MS
from bridge.privacy.files import create_private

SOURCE = "bridge ledger"


def backup_sqlite(ledger: Path, target: Path) -> None:
    """A consistent copy of the ledger file at ``target``, readable by its owner only."""
    if target.exists():
        raise ConfigError(
            [f"{target} already exists: name a new file, or move that one away first"],
            source=SOURCE,
        )
    create_private(target)  # owner-only before the first byte is copied
    with closing(_connect(ledger)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)


def restore_sqlite(backup: Path, ledger: Path) -> None:
    """Replace the ledger's content with ``backup``'s (which must be a bridge ledger)."""
    check_is_ledger(backup)
    with closing(_connect(backup)) as source, closing(_connect(ledger)) as target:
        source.backup(target)


def check_is_ledger(path: Path) -> None:
    """Refuse a file that is not a lapor-bridge ledger, before it overwrites one."""
    problem = None
    if not path.is_file():
        problem = f"no file at {path}"
    else:
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
                conn.execute("SELECT version_num FROM alembic_version").fetchone()
                conn.execute("SELECT count(*) FROM complaint").fetchone()
        except sqlite3.Error as exc:
            problem = f"{path} is not a lapor-bridge SQLite ledger ({exc})"
    if problem:
        raise ConfigError([f"{problem}: name a file made by `bridge ledger backup`"], source=SOURCE)


def pg_commands(url: URL, file: Path, config: str) -> tuple[str, str]:
    """(backup, restore) shell commands for a PostgreSQL ledger; no password in them."""
    # libpq's own scheme, and no password at all (not even masked): pg_dump takes it from
    # PGPASSWORD or ~/.pgpass.
    target = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    ).render_as_string()
    backup = f"pg_dump --format=custom --file '{file}' '{target}'"
    restore = (
        f"pg_restore --clean --if-exists --no-owner --dbname '{target}' '{file}' && "
        f"bridge ledger accept --config '{config}' --yes"
    )
    return backup, restore


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
