"""`bridge run` with `[daemon] http` set serves the probes, metrics and status while it syncs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bridge.demo import DEMO_SECRETS
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def _events_until(stream: object, wanted: set[str]) -> dict[str, dict[str, object]]:
    """Read the daemon's JSON log lines until every ``wanted`` event was seen."""
    seen: dict[str, dict[str, object]] = {}
    for line in stream:  # type: ignore[attr-defined]
        if line.startswith("{"):
            event = json.loads(line)
            seen.setdefault(event["event"], event)
        if wanted <= seen.keys():
            return seen
    raise AssertionError(f"the daemon ended before logging {sorted(wanted - seen.keys())}")


def test_the_daemon_serves_its_endpoints_and_stops_them_on_sigterm(
    sims: Sims, tmp_path: Path
) -> None:
    """Ready once its scheduler runs, status readable after the first cycle; exit 0 on SIGTERM."""
    env = {**os.environ, **DEMO_SECRETS, "BRIDGE_DAEMON__HTTP": "127.0.0.1:0"}
    command = [sys.executable, "-m", "bridge", "run", "--config", str(sims.config_path)]
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as daemon:
        assert daemon.stderr is not None
        try:
            seen = _events_until(daemon.stderr, {"daemon.http.started", "daemon.started"})
            base = f"http://127.0.0.1:{seen['daemon.http.started']['port']}"
            ready, status, metrics = (
                httpx.get(base + path) for path in ("/readyz?verbose", "/status.json", "/metrics")
            )
        finally:
            daemon.send_signal(signal.SIGTERM)  # the daemon's own way out, asserted below
        rest = daemon.stderr.read()
        daemon.wait(timeout=60)
    assert ready.status_code == 200 and "[+]scheduler running" in ready.text, ready.text
    assert status.status_code == 200
    assert {r["name"] for r in status.json()["routes"]} == {"sidumas-to-lapor", "lapor-to-sidumas"}
    assert "lapor_bridge_build_info" in metrics.text
    assert daemon.returncode == 0, rest
    for secret in DEMO_SECRETS.values():
        assert secret not in status.text and secret not in metrics.text
