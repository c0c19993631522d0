"""`bridge ledger rename-system`: a renamed connector neither doubles nor loses a complaint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bridge.demo import DEMO_SECRETS
from tests.simulated import Sims

pytestmark = pytest.mark.e2e

NEW = "sidumas-badung"


def bridge_renamed(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with SIDUMAS's secrets under the connector's new name."""
    secrets = {
        key.replace("__SIDUMAS__", "__SIDUMAS_BADUNG__"): value
        for key, value in DEMO_SECRETS.items()
    }
    kept = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env={**kept, **secrets, "COLUMNS": "200"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _rename_in_config(sims: Sims) -> str:
    text = sims.config_path.read_text(encoding="utf-8")
    text = text.replace("[connectors.sidumas]", f"[connectors.{NEW}]")
    text = text.replace('source = "sidumas"', f'source = "{NEW}"')
    text = text.replace('target = "sidumas"', f'target = "{NEW}"')
    sims.config_path.write_text(text, encoding="utf-8")
    return str(sims.config_path)


def test_a_renamed_connector_is_refused_until_the_ledger_is_renamed(sims: Sims) -> None:
    first = subprocess.run(
        [sys.executable, "-m", "bridge", "sync", "--once", "--config", str(sims.config_path)],
        env={**os.environ, **DEMO_SECRETS},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    in_hub, in_door = sims.hub_state.create_count, sims.door_state.create_count
    assert in_hub > 0
    config = _rename_in_config(sims)

    # Under the new name every SIDUMAS record would look new: the bridge will not start.
    refused = bridge_renamed("sync", "--once", "--config", config)
    assert refused.returncode == 2
    assert "bridge ledger rename-system sidumas NEW-NAME" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert sims.hub_state.create_count == in_hub

    declined = bridge_renamed("ledger", "rename-system", "sidumas", NEW, "-c", config, stdin="n\n")
    assert declined.returncode == 130
    assert bridge_renamed("sync", "--once", "--config", config).returncode == 2

    renamed = bridge_renamed("ledger", "rename-system", "sidumas", NEW, "--yes", "-c", config)
    assert renamed.returncode == 0, renamed.stderr
    assert "link.system:" in renamed.stdout

    again = bridge_renamed("sync", "--once", "--config", config)
    assert again.returncode == 0, again.stderr
    assert sims.hub_state.create_count == in_hub  # nothing sent twice
    assert sims.door_state.create_count == in_door
    copies = sims.hub_copies()
    assert sum(copies.values()) == in_hub and set(copies.values()) == {1}


def test_rename_refuses_an_unknown_new_name_and_an_empty_old_one(sims: Sims) -> None:
    config = str(sims.config_path)
    environ = {**os.environ, **DEMO_SECRETS}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bridge", "ledger", "rename-system", *args]
        return subprocess.run(
            [*command, "--yes", "-c", config],
            env=environ,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    unknown = run("sidumas", "nowhere")
    assert unknown.returncode == 2
    assert "no connector named 'nowhere'" in unknown.stderr
    empty = run("old-door", "sidumas")
    assert empty.returncode == 1
    assert "nothing to rename" in empty.stderr
