"""A bridge process killed between LAPOR!'s commit and its own ledger commit doubles nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from bridge.demo import DEMO_SECRETS
from tests.e2e.test_sidumas_to_lapor import hub_complaints_by_ref, sync_once
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def test_sigkill_after_the_remote_create_then_restart_leaves_exactly_one(sims: Sims) -> None:
    """LAPOR! commits the first create and holds its answer; we SIGKILL the bridge; rerun."""
    sims.look_up_at_once()  # the rerun comes at once: the orphan is looked up now
    sims.one_create_at_a_time()
    httpx.post(
        f"{sims.hub.url}/_sim/faults", json={"hold_create_response": True}
    ).raise_for_status()
    env = {**os.environ, **DEMO_SECRETS}
    bridge = subprocess.Popen(
        [sys.executable, "-m", "bridge", "sync", "--once", "--config", str(sims.config_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        held = httpx.get(f"{sims.hub.url}/_sim/wait_held", params={"timeout": 120}, timeout=130)
        assert held.json()["held"] >= 1, "the bridge never reached its first create"
    finally:
        bridge.kill()  # SIGKILL: no cleanup, no except-blocks, no ledger commit
        bridge.wait()
    httpx.post(f"{sims.hub.url}/_sim/faults", json={"hold_create_response": False})
    httpx.post(f"{sims.hub.url}/_sim/release")
    assert sims.hub_state.create_count == 1  # the create LAPOR! committed before the kill

    report = sync_once(sims)

    assert report.ok, report.error
    assert report.counts["link"] == 1  # the orphan was found by its reference and adopted
    by_ref = hub_complaints_by_ref(sims)
    assert all(len(copies) == 1 for copies in by_ref.values())
    assert sims.hub_state.create_count == len(by_ref)
