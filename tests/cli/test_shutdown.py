"""SIGTERM is honoured while a request hangs on a server that trickles its answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bridge.demo import DEMO_SECRETS, write_config
from bridge.testing.simulators import lapor
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import serve_in_thread
from tests.rawserver import json_answer, serve, trickle

pytestmark = pytest.mark.e2e


def test_sigterm_ends_a_request_that_trickles_and_the_daemon_exits_0(tmp_path: Path) -> None:
    """`bridge run` stuck reading a never-ending answer exits cleanly soon after SIGTERM."""
    closing, started = threading.Event(), threading.Event()
    login = json_answer({"success": True, "data": {"token": "t0ken"}})
    routes = {"/api/login": login, "/api/pengaduan/list": trickle(closing, started, every=0.2)}
    with serve_in_thread(lapor.create_app(LaporState())) as hub, serve(routes) as door:
        config = write_config(tmp_path, hub.url, door.url, tmp_path / "bridge.db")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "bridge", "run", "--config", str(config)],
            env={**os.environ, **DEMO_SECRETS},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert started.wait(60), "the daemon never asked for the listing"
            daemon.send_signal(signal.SIGTERM)
            # Generous: the trickle would hold the daemon for ever without the stop flag.
            _stdout, stderr = daemon.communicate(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.communicate()
        closing.set()
    assert daemon.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert "daemon.stopped" in events
