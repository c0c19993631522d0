"""A ledger that is moved, lost, restored or shared is noticed, never silently re-created."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from bridge.ledger import Ledger
from tests.cli.test_cli import bridge
from tests.pg import fresh_pg_database
from tests.simulated import Sims

pytestmark = pytest.mark.e2e

ROUTE = "sidumas-to-lapor"


def _sync(sims: Sims, config: Path | None = None, cwd: Path | None = None) -> None:
    result = bridge("sync", "--once", "--config", str(config or sims.config_path), cwd=cwd)
    assert result.returncode == 0, result.stderr


def _said(result: subprocess.CompletedProcess[str]) -> str:
    """What the command wrote to stderr, as one line: the console wraps long messages."""
    return " ".join(result.stderr.split())


def _ledger_file(sims: Sims) -> Path:
    return sims.config_path.parent / "bridge.db"


def _state(sims: Sims) -> dict[str, object]:
    state = sims.config_path.parent / ".lapor-bridge-state.json"
    return dict(json.loads(state.read_text(encoding="utf-8")))


def test_the_same_config_run_from_two_working_directories_uses_one_ledger(
    sims: Sims, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A relative `sqlite:///bridge.db` is beside bridge.toml: the second folder sends nothing."""
    text = sims.config_path.read_text(encoding="utf-8")
    sims.config_path.write_text(
        text.replace(f'url = "sqlite:///{_ledger_file(sims)}"', 'url = "sqlite:///bridge.db"'),
        encoding="utf-8",
    )
    first, second = tmp_path_factory.mktemp("here"), tmp_path_factory.mktemp("there")
    _sync(sims, cwd=first)
    created = sims.hub_state.create_count
    assert created > 0
    _sync(sims, cwd=second)
    assert sims.hub_state.create_count == created
    assert _ledger_file(sims).is_file()
    assert not (first / "bridge.db").exists() and not (second / "bridge.db").exists()


@pytest.mark.parametrize(
    "command",
    [("status",), ("trace", "123"), ("metrics",), ("quarantine", "list"), ("review", "list")],
)
def test_read_only_commands_on_a_missing_ledger_create_nothing_and_exit_2(
    sims: Sims, command: tuple[str, ...]
) -> None:
    """No ledger: "no ledger at …" and how to create it, exit 2, and still no file."""
    result = bridge(*command, "--config", str(sims.config_path))
    assert result.returncode == 2, result.stdout
    assert f"no ledger at sqlite:///{_ledger_file(sims)}" in _said(result)
    assert "bridge sync --once" in _said(result)
    assert not _ledger_file(sims).exists()


def test_a_ledger_deleted_between_two_syncs_is_refused_until_accepted(sims: Sims) -> None:
    """The ledger file gone: sync exits 2 naming the accept command; nothing sent, none made."""
    _sync(sims)
    created = sims.hub_state.create_count
    _ledger_file(sims).unlink()

    refused = bridge("sync", "--once", "--config", str(sims.config_path))
    assert refused.returncode == 2
    assert "deleted or moved" in _said(refused) and "a second time" in _said(refused)
    assert f"bridge ledger accept --config {sims.config_path}" in _said(refused)
    assert sims.hub_state.create_count == created
    assert not _ledger_file(sims).exists()
    assert bridge("run", "--config", str(sims.config_path)).returncode == 2

    accepted = bridge("ledger", "accept", "--yes", "--config", str(sims.config_path))
    assert accepted.returncode == 0, accepted.stderr
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        assert _state(sims)["ledger_id"] == ledger.identity().ledger_id
    doors = len(sims.door_state.records)
    _sync(sims)
    # The new ledger's first pass found every earlier copy: nothing doubled either way.
    assert sims.hub_state.create_count == created
    assert all(n == 1 for n in sims.hub_copies().values())
    assert len(sims.door_state.records) == doors


def test_a_ledger_restored_from_an_older_copy_is_refused_and_accept_clears_adoption(
    sims: Sims, tmp_path: Path
) -> None:
    """An older copy put back by hand: refused; `ledger accept` clears adopted:* and lets it run."""
    _sync(sims)
    old = tmp_path / "old.db"
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        ledger.meta.set(f"adopted:{ROUTE}", "done")
    shutil.copy(_ledger_file(sims), old)  # no cycle running: the file is consistent
    _sync(sims)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{_ledger_file(sims)}{suffix}").unlink(missing_ok=True)
    shutil.copy(old, _ledger_file(sims))

    refused = bridge("sync", "--once", "--config", str(sims.config_path))
    assert refused.returncode == 2
    assert "restored from an older copy" in _said(refused)
    assert "bridge ledger accept --config" in _said(refused)

    declined = bridge("ledger", "accept", "--config", str(sims.config_path), stdin="n\n")
    assert declined.returncode == 130
    accepted = bridge("ledger", "accept", "--config", str(sims.config_path), stdin="y\n")
    assert accepted.returncode == 0, accepted.stderr
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        assert ledger.meta.get(f"adopted:{ROUTE}") is None
    _sync(sims)


def test_backup_and_restore_round_trip_and_the_next_sync_runs(sims: Sims, tmp_path: Path) -> None:
    """backup copies the live ledger; restore puts it back, clears adoption, and sync goes on."""
    _sync(sims)
    copy = tmp_path / "backup" / "ledger-copy.db"
    copy.parent.mkdir()
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        ledger.meta.set(f"adopted:{ROUTE}", "done")
        linked = ledger.links.count("lapor")
    backed = bridge("ledger", "backup", str(copy), "--config", str(sims.config_path))
    assert backed.returncode == 0, backed.stderr
    assert copy.stat().st_mode & 0o777 == 0o600
    _sync(sims)  # the live ledger moves on past the copy

    restored = bridge("ledger", "restore", str(copy), "--yes", "--config", str(sims.config_path))
    assert restored.returncode == 0, restored.stderr
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        assert ledger.links.count("lapor") == linked
        assert ledger.meta.get(f"adopted:{ROUTE}") is None
        assert _state(sims)["generation"] == ledger.identity().generation
    _sync(sims)


def test_restore_refuses_while_a_bridge_holds_a_route(sims: Sims, tmp_path: Path) -> None:
    """A live lease in the ledger means a bridge runs: restore exits 1 and changes nothing."""
    _sync(sims)
    copy = tmp_path / "copy.db"
    assert bridge("ledger", "backup", str(copy), "-c", str(sims.config_path)).returncode == 0
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        assert ledger.leases.claim(ROUTE, "other-host:1", timedelta(hours=1)) is not None
        ledger.meta.set(f"adopted:{ROUTE}", "done")
    refused = bridge("ledger", "restore", str(copy), "--yes", "-c", str(sims.config_path))
    assert refused.returncode == 1
    assert "stop every bridge" in _said(refused)
    with Ledger.open(f"sqlite:///{_ledger_file(sims)}", create=False) as ledger:
        assert ledger.meta.get(f"adopted:{ROUTE}") == "done"


@pytest.mark.postgres
def test_two_hosts_with_their_own_state_files_share_one_postgresql_ledger(
    sims: Sims, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each host notes what it last saw; neither refuses the other as the generation grows."""
    with fresh_pg_database("lb_hosts") as url:
        text = sims.config_path.read_text(encoding="utf-8")
        text = text.replace(f'url = "sqlite:///{_ledger_file(sims)}"', f'url = "{url}"')
        hosts = []
        for name in ("host-a", "host-b"):
            config = tmp_path_factory.mktemp(name) / "bridge.toml"
            config.write_text(text, encoding="utf-8")
            hosts.append(config)
        for config in (*hosts, *hosts):
            _sync(sims, config)
        states = [json.loads((c.parent / ".lapor-bridge-state.json").read_text()) for c in hosts]
        assert states[0]["ledger_id"] == states[1]["ledger_id"]
        assert states[0]["generation"] < states[1]["generation"]
        assert sims.hub_copies() and set(sims.hub_copies().values()) == {1}
