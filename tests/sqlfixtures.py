"""Real-database fixtures for the sql connector: a fresh MariaDB or PostgreSQL database per test.

``sql_db`` (import ``sql_db_fixture`` to register it) is parametrised over both servers.
Each test gets its own database (``lb_sql_<random>``) holding the typical PHP complaint
schema (DOMAIN.md §3), dropped afterwards. A server that cannot be reached skips its
half, except in CI (``CI=true``), where it fails: there both must run.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pymysql
import pytest
from psycopg import sql as pgsql
from sqlalchemy import Engine, MetaData, Table, create_engine, insert, text

from bridge.connectors.sql import SqlConnector, SqlSettings
from tests.pg import PG_PORT
from tests.pg import pg_admin as _pg_admin

REPO = Path(__file__).resolve().parents[1]
SHIPPED_MAPPING = REPO / "mappings" / "pengaduan-php.toml"
HOST = "127.0.0.1"
MARIADB_PORT = 3306

MARIADB_SCHEMA = (
    """CREATE TABLE masyarakat (nik VARCHAR(16) PRIMARY KEY, nama VARCHAR(35),
    username VARCHAR(25), telp VARCHAR(13))""",
    """CREATE TABLE pengaduan (id_pengaduan INT AUTO_INCREMENT PRIMARY KEY,
    tgl_pengaduan DATE NULL, nik VARCHAR(16) NULL, judul VARCHAR(100) NULL,
    isi_laporan LONGTEXT NULL, foto VARCHAR(255) NULL,
    status ENUM('0','proses','selesai') NOT NULL DEFAULT '0',
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
      ON UPDATE CURRENT_TIMESTAMP(6),
    bridge_ref VARCHAR(40) NULL, INDEX pengaduan_cursor (updated_at, id_pengaduan))""",
    """CREATE TABLE tanggapan (id_tanggapan INT AUTO_INCREMENT PRIMARY KEY,
    id_pengaduan INT NOT NULL, tgl_tanggapan DATE NOT NULL, tanggapan TEXT NOT NULL,
    id_petugas INT NULL)""",
)
POSTGRES_SCHEMA = (
    """CREATE TABLE masyarakat (nik VARCHAR(16) PRIMARY KEY, nama VARCHAR(35),
    username VARCHAR(25), telp VARCHAR(13))""",
    """CREATE TABLE pengaduan (id_pengaduan SERIAL PRIMARY KEY, tgl_pengaduan DATE,
    nik VARCHAR(16), judul VARCHAR(100), isi_laporan TEXT, foto VARCHAR(255),
    status VARCHAR(10) NOT NULL DEFAULT '0' CHECK (status IN ('0', 'proses', 'selesai')),
    updated_at TIMESTAMP(6) NOT NULL DEFAULT LOCALTIMESTAMP, bridge_ref VARCHAR(40))""",
    "CREATE INDEX pengaduan_cursor ON pengaduan (updated_at, id_pengaduan)",
    """CREATE TABLE tanggapan (id_tanggapan SERIAL PRIMARY KEY, id_pengaduan INT NOT NULL,
    tgl_tanggapan DATE NOT NULL, tanggapan TEXT NOT NULL, id_petugas INT)""",
)


@dataclass
class SqlDb:
    """One fresh database: its URL (no password), an engine to seed it, and helpers."""

    backend: str  # "mariadb" | "postgres"
    url: str
    engine: Engine
    _tables: dict[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        if name not in self._tables:
            self._tables[name] = Table(name, MetaData(), autoload_with=self.engine)
        return self._tables[name]

    def insert(self, table: str, **values: Any) -> Any:
        """Insert one row as the PHP app would; returns its primary key."""
        reflected = self.table(table)
        with self.engine.begin() as conn:
            result = conn.execute(insert(reflected).values(**values))
            return result.inserted_primary_key[0] if result.inserted_primary_key else None

    def complaint(self, n: int = 1, **values: Any) -> int:
        """Insert a plausible complaint ``n`` (columns in ``values`` override); returns its id."""
        row: dict[str, Any] = {
            "tgl_pengaduan": "2024-03-05",
            "nik": "3201010101010001",
            "judul": f"Jalan rusak {n}",
            "isi_laporan": f"Jalan di RT {n} berlubang",
            "status": "0",
        }
        row.update(values)
        return int(self.insert("pengaduan", **row))

    def execute(self, statement: str, **params: Any) -> None:
        """Run trusted test SQL (DDL, session settings) with bound parameters."""
        with self.engine.begin() as conn:
            conn.execute(text(statement), params)

    def now(self) -> datetime:
        """The database's own current time, naive like the `updated_at` column."""
        query = "SELECT NOW(6)" if self.backend == "mariadb" else "SELECT LOCALTIMESTAMP"
        with self.engine.connect() as conn:
            value = conn.execute(text(query)).scalar_one()
        assert isinstance(value, datetime)
        return value


def _unreachable(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is unreachable, and CI must test it")
    pytest.skip(f"{what} is unreachable")


def _mariadb() -> Iterator[SqlDb]:
    try:
        admin = pymysql.connect(host=HOST, port=MARIADB_PORT, user="root", connect_timeout=3)
    except pymysql.err.OperationalError:
        _unreachable(f"MariaDB at {HOST}:{MARIADB_PORT} (user root, no password)")
        return
    name = f"lb_sql_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        engine = create_engine(f"mysql+pymysql://root@{HOST}:{MARIADB_PORT}/{name}?charset=utf8mb4")
        try:
            with engine.begin() as conn:
                for statement in MARIADB_SCHEMA:
                    conn.execute(text(statement))
            # The plain scheme on purpose: the connector must send it to PyMySQL.
            yield SqlDb("mariadb", f"mysql://root@{HOST}:{MARIADB_PORT}/{name}", engine)
        finally:
            engine.dispose()
            admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")


def _postgres() -> Iterator[SqlDb]:
    found = _pg_admin()
    if found is None:
        _unreachable(f"PostgreSQL at {HOST}:{PG_PORT} (database test)")
        return
    admin, user = found
    name = f"lb_sql_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        engine = create_engine(f"postgresql+psycopg://{user}@{HOST}:{PG_PORT}/{name}")
        try:
            with engine.begin() as conn:
                for statement in POSTGRES_SCHEMA:
                    conn.execute(text(statement))
            yield SqlDb("postgres", f"postgresql://{user}@{HOST}:{PG_PORT}/{name}", engine)
        finally:
            engine.dispose()
            drop = pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(pgsql.Identifier(name)))


@pytest.fixture(
    name="sql_db", params=["mariadb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def sql_db_fixture(request: pytest.FixtureRequest) -> Iterator[SqlDb]:
    """A fresh database with the PHP complaint schema, on MariaDB and on PostgreSQL."""
    yield from _mariadb() if request.param == "mariadb" else _postgres()


@contextmanager
def read_only_user(db: SqlDb, tables: tuple[str, ...] = ()) -> Iterator[str]:
    """The URL of a new user that may only SELECT in ``db`` (only ``tables``, if given).

    Dropped afterwards. Names are the test's own, never input: plain text SQL is fine.
    """
    user = f"lb_ro_{uuid.uuid4().hex[:8]}"
    name = db.engine.url.database
    if db.backend == "mariadb":
        on = [f"{name}.{t}" for t in tables] or [f"{name}.*"]
        setup = [f"CREATE USER '{user}'@'%'"] + [f"GRANT SELECT ON {o} TO '{user}'@'%'" for o in on]
        teardown = [f"DROP USER IF EXISTS '{user}'@'%'"]
        url = f"mysql://{user}@{HOST}:{MARIADB_PORT}/{name}"
    else:
        on = [", ".join(tables)] if tables else ["ALL TABLES IN SCHEMA public"]
        setup = [f"CREATE ROLE {user} LOGIN", f"GRANT SELECT ON {on[0]} TO {user}"]
        # Its grants live in this database: drop them before the role itself.
        teardown = [f"DROP OWNED BY {user}", f"DROP ROLE IF EXISTS {user}"]
        url = f"postgresql://{user}@{HOST}:{PG_PORT}/{name}"
    for statement in setup:
        db.execute(statement)
    try:
        yield url
    finally:
        for statement in teardown:
            db.execute(statement)


# --- mappings and connectors -------------------------------------------------------------

_TRANSPORT_BLOCK = re.compile(r"^\[transport\].*?(?=^# --- fields)", re.S | re.M)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def transport_toml(transport: dict[str, Any]) -> str:
    """A [transport] section in TOML (joins as an array of tables, responses as a table)."""
    lines = ["[transport]"]
    lines += [f"{k} = {_toml(v)}" for k, v in transport.items() if k not in {"joins", "responses"}]
    for join in transport.get("joins", []):
        lines += ["[[transport.joins]]", *(f"{k} = {_toml(v)}" for k, v in join.items())]
    if "responses" in transport:
        lines.append("[transport.responses]")
        lines += [f"{k} = {_toml(v)}" for k, v in transport["responses"].items()]
    return "\n".join(lines) + "\n\n"


SHIPPED_TRANSPORT: dict[str, Any] = {
    "table": "pengaduan",
    "id_column": "id_pengaduan",
    "updated_at_column": "updated_at",
    "joins": [{"table": "masyarakat", "on": {"nik": "nik"}, "prefix": "pelapor"}],
    "responses": {
        "table": "tanggapan",
        "foreign_key": "id_pengaduan",
        "id_column": "id_tanggapan",
        "order_by": "tgl_tanggapan",
        "key": "tanggapan_list",
        "writable": True,
    },
}


def write_mapping(directory: Path, transport: dict[str, Any] | None = None) -> Path:
    """The shipped pengaduan-php mapping with its [transport] replaced by ``transport``."""
    shipped = SHIPPED_MAPPING.read_text(encoding="utf-8")
    replaced = _TRANSPORT_BLOCK.sub(
        lambda _: transport_toml(SHIPPED_TRANSPORT if transport is None else transport), shipped
    )
    assert replaced != shipped or transport is None
    path = directory / f"pengaduan-{uuid.uuid4().hex[:8]}.toml"
    path.write_text(replaced, encoding="utf-8")
    return path


def make_connector(
    db: SqlDb,
    directory: Path,
    transport: dict[str, Any] | None = None,
    *,
    page_size: int = 500,
    hold_back_seconds: float = 0,
    url: str | None = None,
) -> SqlConnector:
    """A sql connector on ``db`` with the pengaduan-php mapping (and ``transport`` if given)."""
    settings = SqlSettings(
        type="sql",
        mapping=str(write_mapping(directory, transport)),
        url=url or db.url,
        page_size=page_size,
        hold_back_seconds=hold_back_seconds,
    )
    return SqlConnector("aduan", settings)


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port
