"""`bridge ledger rebuild`: links again what a lost ledger forgot, by reference; creates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.ledger import Ledger
from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def _lose_everything(sims: Sims) -> Path:
    """A container started without its volume: no ledger, no state file."""
    folder = sims.config_path.parent
    for name in ("bridge.db", "bridge.db-wal", "bridge.db-shm", ".lapor-bridge-state.json"):
        (folder / name).unlink(missing_ok=True)
    return folder / "bridge.db"


def test_a_rebuild_shows_then_writes_the_links_and_the_next_sync_doubles_nothing(
    sims: Sims,
) -> None:
    """Dry run writes nothing; --apply links every copy; the next sync creates none."""
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    created, doors = sims.hub_state.create_count, len(sims.door_state.records)
    ledger_file = _lose_everything(sims)

    shown = bridge("ledger", "rebuild", "--config", config)
    assert shown.returncode == 0, shown.stderr
    assert "dry run" in shown.stdout and "Nothing was written" in shown.stdout
    assert not ledger_file.exists()

    applied = bridge("ledger", "rebuild", "--apply", "--config", config)
    assert applied.returncode == 0, applied.stderr
    with Ledger.open(f"sqlite:///{ledger_file}", create=False) as ledger:
        assert ledger.links.count("lapor") == created
    assert sims.hub_state.create_count == created

    assert bridge("sync", "--once", "--config", config).returncode == 0
    assert sims.hub_state.create_count == created
    assert all(n == 1 for n in sims.hub_copies().values())
    assert len(sims.door_state.records) == doors
