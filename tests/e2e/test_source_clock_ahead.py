"""A source whose rows sit 7 h in the future (its times read in the wrong zone): every cycle
warns once with the fix, the cycle's report says it, and `bridge status` shows it.

Over real HTTP on loopback: a LAPOR! complaint disposed to the agency, stamped 7 h ahead of
WIB, pulled by the demo's route ``lapor-to-sidumas``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from bridge.demo import DEMO_SECRETS
from tests.cli.test_cli import bridge
from tests.simulated import Sims, sync_route

pytestmark = pytest.mark.e2e
WIB = ZoneInfo("Asia/Jakarta")
WHOLE = "a whole 7 h, so its times are written in a zone 7 h ahead of Asia/Jakarta"


def test_a_source_seven_hours_ahead_warns_every_cycle_once_and_shows_in_status(
    sims: Sims,
) -> None:
    """Two cycles, two warnings (one each) naming the 7 h and the fix; the notice on lapor."""
    ahead = datetime.now(WIB) + timedelta(hours=7)
    sims.hub_state.insert_raw(
        {
            "title": "Jalan rusak",
            "content": "Jalan rusak parah",
            "disposition_id": 1001,
            "category_id": 1,
            "updated_at": ahead.isoformat(timespec="seconds"),  # the simulator keeps offsets
        }
    )
    for _ in range(2):
        with capture_logs() as logs:
            report = sync_route(sims.config_path, "lapor-to-sidumas", DEMO_SECRETS)
        assert report.ok, report.error
        [warning] = [e for e in logs if e["event"] == "source.clock.ahead"]
        assert warning["source"] == "lapor" and WHOLE in warning["problem"]
        assert "set [mapping] timezone" in warning["fix"]
        assert any(WHOLE in note for note in report.notes)
    result = bridge("status", "--config", str(sims.config_path))
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Connector notices" in text and "lapor since" in text and WHOLE in text


def test_a_source_on_time_warns_nothing(sims: Sims) -> None:
    """The demo's complaints, stamped in the past: no warning, no notice."""
    with capture_logs() as logs:
        report = sync_route(sims.config_path, "lapor-to-sidumas", DEMO_SECRETS)
    assert report.ok, report.error
    assert not [e for e in logs if e["event"] == "source.clock.ahead"]
    result = bridge("status", "--config", str(sims.config_path))
    assert "Connector notices" not in result.stdout
