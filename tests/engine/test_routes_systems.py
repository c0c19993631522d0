"""bridge.sync.wiring refuses a ledger holding records of a system no connector is named after."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, write_config
from bridge.errors import ConfigError
from bridge.ledger import Ledger
from bridge.sync import build_routes, check_systems, close_routes
from tests.ledger.ledger_factories import linked


def _config(tmp_path: Path, *, retired: str = "") -> Path:
    # Nothing listens on these URLs: building routes opens no connection.
    path = write_config(tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", tmp_path / "l.db")
    if retired:
        text = path.read_text(encoding="utf-8").replace(
            "[ledger]\n", f'[ledger]\nretired_systems = ["{retired}"]\n', 1
        )
        path.write_text(text, encoding="utf-8")
    return path


def test_systems_the_configuration_names_pass(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path), environ=DEMO_SECRETS)
    with Ledger.open(config.ledger.url) as ledger:
        linked(ledger, 1, 2)  # sidumas and lapor, both configured
        close_routes(build_routes(config, ledger))


def test_a_system_no_connector_names_stops_the_bridge_unless_retired(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path), environ=DEMO_SECRETS)
    with Ledger.open(config.ledger.url) as ledger:
        linked(ledger, 1, 2)
        ledger.systems.rename("sidumas", "old-door")
        with pytest.raises(ConfigError) as raised:
            build_routes(config, ledger)
        (problem,) = raised.value.problems
        assert "2 linked record(s) of system 'old-door'" in problem
        assert "bridge ledger rename-system old-door NEW-NAME" in problem
        assert "retired_systems" in problem

        retired = load_config(_config(tmp_path, retired="old-door"), environ=DEMO_SECRETS)
        check_systems(retired, ledger)  # a door closed for good, said so: no error
