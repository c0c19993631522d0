"""Copies of the ledger: what a restore refuses, and the PostgreSQL commands printed instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.ledger import Ledger
from bridge.ledger.backup import backup_sqlite, pg_commands, restore_sqlite
from bridge.ledger.db import normalise_url


def test_pg_commands_use_libpq_urls_without_the_password() -> None:
    """pg_dump/pg_restore get a postgresql:// URL with no password, masked or not."""
    url = normalise_url("postgresql+psycopg://lb:s3cret@db:5432/bridge")
    dump, load = pg_commands(url, Path("/b/l.dump"), "/etc/bridge.toml")
    assert dump == "pg_dump --format=custom --file '/b/l.dump' 'postgresql://lb@db:5432/bridge'"
    assert "bridge ledger accept --config '/etc/bridge.toml' --yes" in load
    assert "s3cret" not in dump + load and "***" not in dump + load


def test_restore_refuses_a_file_that_is_not_a_ledger(tmp_path: Path) -> None:
    """A wrong file never overwrites the ledger: ConfigError, the ledger unchanged."""
    with Ledger.open(f"sqlite:///{tmp_path}/l.db") as ledger:
        ledger.meta.set("k", "kept")
    (tmp_path / "notes.txt").write_text("not a database", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a lapor-bridge SQLite ledger"):
        restore_sqlite(tmp_path / "notes.txt", tmp_path / "l.db")
    with Ledger.open(f"sqlite:///{tmp_path}/l.db", create=False) as ledger:
        assert ledger.meta.get("k") == "kept"


def test_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    """An existing target is a ConfigError saying to name a new file."""
    Ledger.open(f"sqlite:///{tmp_path}/l.db").close()
    (tmp_path / "taken.db").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists"):
        backup_sqlite(tmp_path / "l.db", tmp_path / "taken.db")
    assert (tmp_path / "taken.db").read_text(encoding="utf-8") == "mine"
