"""The state file outside the ledger: written safely, never moved backwards, errors with the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, LedgerSettings
from bridge.daemon import LedgerReplaced, StateRecorder, open_for_cycles, read_state
from bridge.errors import ConfigError
from bridge.ledger import LedgerIdentity


def _settings(tmp_path: Path, state: Path | None = None) -> BridgeConfig:
    ledger = LedgerSettings(
        url=f"sqlite:///{tmp_path}/l.db", state_file=str(state or tmp_path / "state.json")
    )
    return BridgeConfig(ledger=ledger, path=tmp_path / "bridge.toml")


def test_the_first_open_writes_the_state_file_owner_only(tmp_path: Path) -> None:
    """No state file yet: one is written (mode 0600) with the ledger's id, nothing refused."""
    with open_for_cycles(_settings(tmp_path)) as ledger:
        seen = read_state(tmp_path / "state.json")
        assert seen is not None and seen.ledger_id == ledger.identity().ledger_id
    assert (tmp_path / "state.json").stat().st_mode & 0o777 == 0o600


def test_a_cycle_start_rewrites_the_state_file_and_a_late_older_one_does_not(
    tmp_path: Path,
) -> None:
    """The recorder keeps the highest generation, whatever order the route threads report in."""
    path = tmp_path / "state.json"
    recorder = StateRecorder(path, "sqlite:///l.db")
    recorder(LedgerIdentity("id-1", 5))
    recorder(LedgerIdentity("id-1", 4))
    assert json.loads(path.read_text())["generation"] == 5
    with open_for_cycles(_settings(tmp_path, tmp_path / "other.json")) as ledger:
        ledger.cycles.start("r")
        seen = read_state(tmp_path / "other.json")
        assert seen is not None and seen.generation == 1


def test_another_ledger_at_the_same_place_is_refused(tmp_path: Path) -> None:
    """A ledger whose id is not the state file's is a LedgerReplaced naming `ledger accept`."""
    with open_for_cycles(_settings(tmp_path)):
        pass
    (tmp_path / "l.db").unlink()
    with open_for_cycles(_settings(tmp_path, tmp_path / "fresh.json")):
        pass  # a new, empty ledger made under another state file
    with pytest.raises(LedgerReplaced, match="bridge ledger accept --config"):
        open_for_cycles(_settings(tmp_path))


def test_an_unreadable_state_file_says_what_to_do(tmp_path: Path) -> None:
    """A corrupt state file is a ConfigError naming `[ledger] state_file`, not a traceback."""
    (tmp_path / "state.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[ledger\] state_file"):
        open_for_cycles(_settings(tmp_path))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_unwritable_state_folder_says_which_key_to_set(tmp_path: Path) -> None:
    """A state file that cannot be written is a ConfigError naming `[ledger] state_file`."""
    # /proc refuses new files even to root, which a read-only folder would not.
    unwritable = Path("/proc/lapor-bridge-state.json")
    with pytest.raises(ConfigError, match=r"cannot write the ledger state file.*state_file"):
        open_for_cycles(_settings(tmp_path, unwritable))


def test_a_ledger_file_deleted_under_a_running_bridge_stops_the_next_cycle(tmp_path: Path) -> None:
    """The unlinked file would take writes silently: the next cycle start refuses instead."""
    with open_for_cycles(_settings(tmp_path)) as ledger:
        ledger.cycles.start("door-to-hub")
        written = read_state(tmp_path / "state.json")
        (tmp_path / "l.db").unlink()
        with pytest.raises(LedgerReplaced, match="deleted or replaced while this bridge ran"):
            ledger.cycles.start("door-to-hub")
    # The state file still names the ledger the bridge wrote to, for `bridge ledger accept`.
    assert read_state(tmp_path / "state.json") == written
