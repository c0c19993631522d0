"""`bridge metrics`: counts, set-aside records and paused systems as Prometheus text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bridge.demo import DEMO_SECRETS
from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def _sample(text: str, name: str, **labels: str) -> float:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"lapor_bridge_{name}{{{inner}}} "
    (line,) = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(line.removeprefix(prefix))


def _steady(text: str, moving: tuple[str, ...]) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith(moving)]


def test_metrics_show_links_set_aside_records_and_a_paused_system(
    sims: Sims, tmp_path: Path
) -> None:
    config = str(sims.config_path)
    broken = dict(sims.door_state.records[0], topik="")  # no title: set aside
    sims.door_state.upsert_raw(broken)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    sims.hub_post("faults", {"fail_next_requests": 50, "fail_status": 401})
    bridge("sync", "--once", "--config", config, env={"BRIDGE_DAEMON__PAUSE_AFTER_FAILURES": "1"})

    shown = bridge("metrics", "--config", config)
    out = tmp_path / "metrics" / "lapor_bridge.prom"
    written = bridge("metrics", "--config", config, "--output", str(out))

    assert shown.returncode == 0 and written.returncode == 0, shown.stderr + written.stderr
    text = shown.stdout
    # The same metrics, but for those measured from the moment each command ran.
    moving = ("lapor_bridge_route_lag_seconds", "lapor_bridge_snapshot_timestamp_seconds")
    assert _steady(out.read_text(encoding="utf-8"), moving) == _steady(text, moving)
    assert "# TYPE lapor_bridge_route_quarantined gauge" in text
    assert _sample(text, "route_quarantined", route="sidumas-to-lapor") == 1
    assert _sample(text, "route_linked", route="sidumas-to-lapor") > 0
    assert _sample(text, "connector_paused", connector="lapor") == 1
    assert _sample(text, "connector_failures", connector="lapor") >= 1
    assert _sample(text, "route_lease_held", route="sidumas-to-lapor") == 0  # released
    for secret in DEMO_SECRETS.values():
        assert secret not in text


def test_the_daemon_rewrites_its_metrics_file_after_each_cycle(sims: Sims, tmp_path: Path) -> None:
    """With daemon.metrics_file set, every finished cycle leaves a fresh file behind."""
    from bridge.cli.run import metrics_writer
    from bridge.ledger import Ledger
    from bridge.sync import CycleReport

    target = tmp_path / "textfile" / "bridge.prom"
    config = sims.config()
    daemon = config.daemon.model_copy(update={"metrics_file": str(target)})
    settings = dataclasses.replace(config, daemon=daemon)
    with Ledger.open(settings.ledger.url) as ledger:
        write = metrics_writer(settings, ledger)
        write(CycleReport(route="sidumas-to-lapor", dry_run=False))
    assert "lapor_bridge_route_linked" in target.read_text(encoding="utf-8")
