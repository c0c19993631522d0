"""The chaos test CI runs: 2,000 complaints both ways, faults on, the daemon SIGKILLed 10 times,
the ledger swapped for an old copy once and lost once.

The run itself lives in ``tests/chaos/harness.py`` (``make chaos`` runs a longer one, with
three replicas on PostgreSQL). Here it must end with nothing lost and nothing doubled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos.harness import ChaosSettings, run_chaos

pytestmark = pytest.mark.e2e


# The harness has its own deadline; pytest's default 300 s is too short on a loaded machine.
@pytest.mark.timeout(900)
def test_two_thousand_complaints_both_ways_survive_faults_and_ten_sigkills(
    tmp_path: Path,
) -> None:
    """Every complaint and follow-up once on each side, through a restored and a lost ledger."""
    settings = ChaosSettings(complaints=2000, kills=10, replicas=1, deadline_seconds=840)
    result = run_chaos(settings, tmp_path)

    summary = json.dumps(result.summary(), indent=2)
    assert result.kills == 10
    assert result.ledger_swaps == ["restored from an old copy", "lost"], summary
    assert result.door_expected > 800 and result.hub_expected > 800, summary
    assert result.followups_typed >= 100, summary
    assert sum(result.faults_injected[k] for k in ("error", "rate_limit", "drop")) > 50, summary
    assert result.ok, summary
