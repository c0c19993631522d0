"""`bridge ledger rename-system`: a renamed connector neither doubles nor loses a complaint."""

from __future__ import annotations

import pytest

from bridge.demo import DEMO_SECRETS
from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e

NEW = "sidumas-badung"

# SIDUMAS's secrets under the connector's new name (and none under the old one).
RENAMED = {key.replace("__SIDUMAS__", "__SIDUMAS_BADUNG__"): v for key, v in DEMO_SECRETS.items()}


def _rename_in_config(sims: Sims) -> str:
    text = sims.config_path.read_text(encoding="utf-8")
    text = text.replace("[connectors.sidumas]", f"[connectors.{NEW}]")
    text = text.replace('source = "sidumas"', f'source = "{NEW}"')
    text = text.replace('target = "sidumas"', f'target = "{NEW}"')
    sims.config_path.write_text(text, encoding="utf-8")
    return str(sims.config_path)


def test_a_renamed_connector_is_refused_until_the_ledger_is_renamed(sims: Sims) -> None:
    first = bridge("sync", "--once", "--config", str(sims.config_path))
    assert first.returncode == 0, first.stderr
    in_hub, in_door = sims.hub_state.create_count, sims.door_state.create_count
    assert in_hub > 0
    config = _rename_in_config(sims)

    # Under the new name every SIDUMAS record would look new: the bridge will not start.
    refused = bridge("sync", "--once", "--config", config, secrets=RENAMED)
    assert refused.returncode == 2
    assert "bridge ledger rename-system sidumas NEW-NAME" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sims.hub_state.create_count == in_hub

    rename = ("ledger", "rename-system", "sidumas", NEW, "-c", config)
    declined = bridge(*rename, stdin="n\n", secrets=RENAMED)
    assert declined.returncode == 130
    assert bridge("sync", "--once", "--config", config, secrets=RENAMED).returncode == 2

    renamed = bridge(*rename, "--yes", secrets=RENAMED)
    assert renamed.returncode == 0, renamed.stderr
    assert "link.system:" in renamed.stdout

    again = bridge("sync", "--once", "--config", config, secrets=RENAMED)
    assert again.returncode == 0, again.stderr
    assert sims.hub_state.create_count == in_hub  # nothing sent twice
    assert sims.door_state.create_count == in_door
    copies = sims.hub_copies()
    assert sum(copies.values()) == in_hub and set(copies.values()) == {1}


def test_rename_refuses_an_unknown_new_name_and_an_empty_old_one(sims: Sims) -> None:
    config = str(sims.config_path)

    unknown = bridge("ledger", "rename-system", "sidumas", "nowhere", "--yes", "-c", config)
    assert unknown.returncode == 2
    assert "no connector named 'nowhere'" in unknown.stderr
    empty = bridge("ledger", "rename-system", "old-door", "sidumas", "--yes", "-c", config)
    assert empty.returncode == 1
    assert "nothing to rename" in empty.stderr
