"""Opening the ledger: migrations, URLs, and the errors that say how to fix them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from bridge.errors import ConfigError
from bridge.ledger import Ledger
from bridge.ledger.db import display, mask, normalise_url
from bridge.ledger.tables import COMPLAINT

TABLES = {
    *("complaint", "link", "pending_op", "cursor", "quarantine", "event", "cycle_run"),
    *("followup", "followup_copy", "review", "ledger_meta"),
}


def test_open_runs_migrations_to_head(ledger: Ledger, ledger_url: str) -> None:
    """Opening an empty database creates every ledger table and stamps the head revision."""
    engine = create_engine(normalise_url(ledger_url))
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            == "0013_notices"
        )
    engine.dispose()


def test_open_twice_is_idempotent(ledger: Ledger, ledger_url: str) -> None:
    """A second open of a migrated ledger changes nothing and loses nothing."""
    ledger.cycles.set_cursor("r", "s", "42")
    with Ledger.open(ledger_url) as again:
        assert again.cycles.cursor("r", "s") == "42"


def test_migrations_match_the_models(ledger: Ledger, ledger_url: str) -> None:
    """The hand-written migration builds exactly the schema the table classes describe."""
    engine = create_engine(normalise_url(ledger_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, COMPLAINT.metadata) == []
    engine.dispose()


def test_plain_postgresql_url_uses_psycopg3() -> None:
    """`postgresql://` and `postgres://` URLs are sent to the psycopg 3 driver."""
    for raw in ("postgresql://u@h/db", "postgres://u@h/db"):
        assert normalise_url(raw).drivername == "postgresql+psycopg"
    assert normalise_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"


def test_display_url_masks_the_password(ledger: Ledger, ledger_url: str) -> None:
    """`url_for_display` never shows a password, whatever the URL looks like."""
    assert display(normalise_url("postgresql://lb:s3cret@db:5432/x")) == (
        "postgresql+psycopg://lb:***@db:5432/x"
    )
    assert mask("not a url://lb:s3cret@db") == "not a url://lb:***@db"
    assert ledger.url_for_display == display(normalise_url(ledger_url))


def test_unparseable_url_is_a_config_error() -> None:
    """A URL that is not a URL is a ConfigError naming `ledger.url` and showing valid forms."""
    with pytest.raises(ConfigError, match=r"ledger\.url.*sqlite:///"):
        Ledger.open("bridge.db")


def test_unsupported_database_is_a_config_error() -> None:
    """Only SQLite and PostgreSQL are accepted."""
    with pytest.raises(ConfigError, match="unsupported database"):
        Ledger.open("mysql://lb:pw@localhost/lb")


def test_missing_driver_is_a_config_error() -> None:
    """A PostgreSQL driver that is not installed is reported with the one that is."""
    with pytest.raises(ConfigError, match=r"postgresql\+psycopg://"):
        Ledger.open("postgresql+pg8000://lb:pw@localhost/lb")


def test_missing_sqlite_folder_is_a_config_error(tmp_path: Path) -> None:
    """A SQLite file in a folder that does not exist is reported with the folder."""
    with pytest.raises(ConfigError, match="does not exist") as caught:
        Ledger.open(f"sqlite:///{tmp_path}/nowhere/bridge.db")
    assert "nowhere" in str(caught.value)


def test_unreachable_server_is_a_config_error_without_the_password() -> None:
    """An unreachable PostgreSQL server gives a ConfigError with the fix and the password masked."""
    with pytest.raises(ConfigError) as caught:
        Ledger.open("postgresql://lb:s3cret-pw@127.0.0.1:1/lb")
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "lb:***@127.0.0.1:1/lb" in message
    assert "reachable" in message


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    """SQLite connections use WAL, wait when busy, and enforce foreign keys."""
    with Ledger.open(f"sqlite:///{tmp_path}/l.db") as opened:
        engine = opened.db.engine  # the pragmas are set per connection by the ledger's own engine
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 1000


def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """`bridge status` reads while another process holds the write lock."""
    path = tmp_path / "l.db"
    with Ledger.open(f"sqlite:///{path}") as opened:
        opened.cycles.set_cursor("r", "s", "1")
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            started = time.monotonic()
            assert opened.cycles.cursor("r", "s") == "1"
            assert time.monotonic() - started < 1
        finally:
            other.close()
