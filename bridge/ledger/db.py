"""Opening the ledger database: URL checks, engine set-up, migrations to head.

SQLite is the default; PostgreSQL is reached through psycopg 3. Every failure to
open becomes a ``ConfigError`` that says what to do, with any password masked.

Commands that only read (``status``, ``trace``, ...) open with ``create=False``: then
nothing is created or migrated; a missing ledger is ``LedgerMissing`` and one whose
schema is behind is ``LedgerOutdated``, both saying which command creates or upgrades it.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

import bridge.migrations
from bridge.errors import ConfigError
from bridge.ledger.failures import LedgerMissing, LedgerOutdated
from bridge.privacy.files import create_private

SOURCE = "ledger"
# Long enough to ride out another process's write transaction (each is a few ms),
# short enough that a stuck writer is reported rather than waited on forever.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Taken by every process that migrates a PostgreSQL ledger, so two bridges starting
# at once do not both try to create the tables.
_PG_MIGRATION_LOCK = 0x1A7083B1
_PLAIN_POSTGRES = re.compile(r"^postgres(?:ql)?://")
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


def normalise_url(raw: str) -> URL:
    """Parse ``raw``, sending plain ``postgresql://`` URLs to the psycopg 3 driver."""
    text_url = _PLAIN_POSTGRES.sub("postgresql+psycopg://", raw.strip())
    try:
        url = make_url(text_url)
    except ArgumentError:
        raise _config_error(
            raw,
            "is not a database URL; use sqlite:///path/to/bridge.db or "
            "postgresql://user:password@host:5432/dbname",
        ) from None
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise _config_error(raw, "names an unsupported database; use sqlite:/// or postgresql://")
    return url


def mask(raw: str) -> str:
    """``raw`` with any password replaced by ``***``, even when it does not parse."""
    return _PASSWORD_IN_URL.sub(r"\1***@", raw)


def display(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def connect(raw: str, *, create: bool = True) -> tuple[Engine, URL]:
    """An engine for ``raw`` with the schema migrated to head.

    With ``create=False`` nothing is written: the ledger must already exist at head.
    """
    url = normalise_url(raw)
    path = sqlite_file(url)
    if not create and path is not None and not path.exists():
        raise _missing(raw)
    if create and path is not None and path.parent.is_dir():
        # Created owner-only before SQLite creates it world-readable; its -wal and -shm
        # files take the database file's mode.
        create_private(path)
    engine = _engine(raw, url)
    try:
        migrate(engine) if create else check_schema(engine, raw)
    except (LedgerMissing, LedgerOutdated):
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        why = reason(exc, url.password)
        raise _config_error(raw, f"cannot be opened ({why}); {_hint(url)}") from None
    except CommandError as exc:
        engine.dispose()
        raise _config_error(
            raw,
            f"holds a ledger this version cannot read ({exc}); "
            "upgrade lapor-bridge or point `ledger.url` at another database",
        ) from None
    return engine, url


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite ledger; None for PostgreSQL and in-memory or ``file:`` URIs."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database).expanduser()


def sqlite_beside(raw: str, folder: Path) -> str:
    """``raw`` with a relative SQLite path made absolute under ``folder``; else unchanged.

    In-memory and ``file:`` URIs, absolute paths, PostgreSQL and URLs that do not parse
    (``Ledger.open`` reports those) are returned as they are.
    """
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        return raw
    path = sqlite_file(url)
    if path is None or Path(str(url.database)).is_absolute():
        return raw
    # folder / an absolute path (a "~" expanded) is that path
    return url.set(database=str(folder / path)).render_as_string(hide_password=False)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(bridge.migrations.__file__).parent))
    return config


def check_schema(engine: Engine, raw: str) -> None:
    """Without writing anything: the ledger exists, and its schema is this version's."""
    with engine.execution_options(ledger_write=False).connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    if current == head:
        return
    if current is None:  # an empty database: the bridge never created its tables here
        raise _missing(raw)
    script.get_revision(current)  # a revision this version does not know: CommandError
    raise LedgerOutdated(
        [
            f"`ledger.url` {mask(raw)!r} holds a ledger at schema revision {current}, older "
            f"than this version's ({head}). A read-only command does not upgrade it: run "
            "`bridge sync --once` or `bridge run` once to upgrade it, then run this again"
        ],
        source=SOURCE,
    )


def _missing(raw: str) -> LedgerMissing:
    return LedgerMissing(
        [
            f"no ledger at {mask(raw)}: run `bridge sync --once` or `bridge run` to create "
            "it, or fix `[ledger] url` if the ledger lives elsewhere (a relative SQLite "
            "path is read from the configuration file's folder)"
        ],
        source=SOURCE,
    )


def migrate(engine: Engine) -> None:
    """Run every Alembic migration up to head, in one transaction."""
    config = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _engine(raw: str, url: URL) -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            return _sqlite_engine(url)
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    except (NoSuchModuleError, ArgumentError, ImportError):
        raise _config_error(
            raw, "names a database driver that is not installed; use postgresql+psycopg://"
        ) from None


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise _config_error(
                url.render_as_string(), f"points into {folder}, which does not exist; create it"
            )
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (it would BEGIN lazily,
    # only before the first write), so the "begin" hook below decides instead.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL, not NORMAL: a recorded create intent must survive a power cut, or the
        # retry after it could create a second LAPOR! complaint.
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch to WAL (persistent in the file, so usually a no-op).

    Switching a new file needs an exclusive lock, and SQLite answers "database is
    locked" at once, without the busy handler, when another process opening the
    same new ledger holds it: so retry for as long as busy_timeout would wait.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(conn: Connection) -> None:
    # Writers take the write lock up front: a deferred transaction that reads and
    # then writes can fail with SQLITE_BUSY without waiting when another process
    # committed in between. Readers stay deferred so `bridge status` never blocks.
    mode = "IMMEDIATE" if conn.get_execution_options().get("ledger_write", True) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def reason(exc: SQLAlchemyError, password: str | None = None) -> str:
    """The driver's first line of complaint, never echoing the password back."""
    original = getattr(exc, "orig", None)
    lines = str(original if original is not None else exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return first.replace(password, "***") if password else first


def _hint(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "check that the file's folder exists and is writable by the bridge"
    return (
        "check that the PostgreSQL server is running and reachable, that the database "
        "exists, and that the user and password are right"
    )


def _config_error(raw: str, problem: str) -> ConfigError:
    return ConfigError([f"`ledger.url` {mask(raw)!r} {problem}"], source=SOURCE)
