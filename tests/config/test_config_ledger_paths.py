"""Where the ledger and its state file are: relative paths are read from the config's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.config_fakes import Loader


def test_a_relative_sqlite_path_is_beside_the_config_file(
    load: Loader,
    config_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`sqlite:///data/l.db` means the config folder's data/l.db, whatever the working directory."""
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))

    config = load('[ledger]\nurl = "sqlite:///data/l.db"\n', {})

    assert config.ledger.url == f"sqlite:///{config_dir}/data/l.db"


def test_a_relative_path_from_the_environment_is_beside_the_config_file_too(
    load: Loader, config_dir: Path
) -> None:
    """BRIDGE_LEDGER__URL follows the same rule as the file: one rule, wherever it was typed."""
    config = load("", {"BRIDGE_LEDGER__URL": "sqlite:///env.db"})

    assert config.ledger.url == f"sqlite:///{config_dir}/env.db"


@pytest.mark.parametrize(
    "url",
    ["sqlite:////var/lib/bridge/l.db", "sqlite:///:memory:", "sqlite://", "postgresql://u@h/db"],
)
def test_absolute_in_memory_and_server_urls_are_unchanged(load: Loader, url: str) -> None:
    """Only a relative SQLite path is rewritten."""
    assert load(f'[ledger]\nurl = "{url}"\n', {}).ledger.url == url


def test_the_state_file_defaults_to_beside_the_config_and_can_be_set(
    load: Loader, config_dir: Path
) -> None:
    """`[ledger] state_file` defaults to .lapor-bridge-state.json beside the config file."""
    assert load("", {}).ledger.state_file == str(config_dir / ".lapor-bridge-state.json")
    config = load('[ledger]\nstate_file = "state/seen.json"\n', {})
    assert config.ledger.state_file == str(config_dir / "state" / "seen.json")
