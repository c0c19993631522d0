"""The ledger, its WAL and SHM, backups and the metrics file are created owner-only (0600)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.daemon import write_atomically
from bridge.ledger import Ledger
from bridge.ledger.backup import backup_sqlite
from bridge.privacy.files import private_mode


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask of 022, the usual one that made these files world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_ledger_and_its_wal_and_shm_are_owner_only(tmp_path: Path, loose_umask: None) -> None:
    """A new SQLite ledger, its -wal and -shm are 0600 under a 022 umask."""
    path = tmp_path / "ledger.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        ledger.reviews.flag("r", "lb1", "door", "write", "x", {})
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert [_mode(f) for f in files] == [0o600] * 3


def test_a_backup_is_owner_only(tmp_path: Path, loose_umask: None) -> None:
    """bridge ledger backup writes its copy 0600."""
    path = tmp_path / "ledger.db"
    Ledger.open(f"sqlite:///{path}").close()
    backup_sqlite(path, tmp_path / "copy.db")
    assert _mode(tmp_path / "copy.db") == 0o600


def test_the_metrics_file_is_owner_only(tmp_path: Path, loose_umask: None) -> None:
    """The daemon's metrics file is 0600."""
    write_atomically(tmp_path / "bridge.prom", "x 1\n")
    assert _mode(tmp_path / "bridge.prom") == 0o600


def test_a_stricter_umask_is_respected(tmp_path: Path) -> None:
    """Under umask 0277 the files are 0400, never wider than asked."""
    old = os.umask(0o277)
    try:
        assert private_mode() == 0o400
        write_atomically(tmp_path / "bridge.prom", "x 1\n")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "bridge.prom") == 0o400
