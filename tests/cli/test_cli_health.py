"""`bridge status` shows a system that keeps failing, paused, with the reason."""

from __future__ import annotations

import pytest

from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def test_a_refusing_hub_is_shown_paused_with_its_error(sims: Sims) -> None:
    """LAPOR! refuses our key: the failure is blamed on it, and status says it is paused."""
    sims.hub_post("faults", {"fail_next_requests": 50, "fail_status": 401})
    env = {"BRIDGE_DAEMON__PAUSE_AFTER_FAILURES": "1"}

    synced = bridge("sync", "--once", "--config", str(sims.config_path), env=env)
    assert synced.returncode == 1
    assert "AuthError" in synced.stderr

    status = bridge("status", "--config", str(sims.config_path), env=env)
    assert status.returncode == 0, status.stderr
    assert "systems failing" in status.stdout
    row = next(line for line in status.stdout.splitlines() if "paused" in line)
    assert "lapor" in row and "AuthError" in row
    assert "sidumas" not in row  # the door answered; it is not to blame


def test_status_shows_no_failing_systems_when_all_is_well(sims: Sims) -> None:
    assert bridge("sync", "--once", "--config", str(sims.config_path)).returncode == 0
    status = bridge("status", "--config", str(sims.config_path))
    assert "systems failing" not in status.stdout
