"""Every failure is a route's reason, never a crash: refused listings and searches, and bugs.

Real HTTP on loopback against the simulators, the CLI as a process, and the daemon in
process; a connector with a bug is a third-party plug-in installed for the test through
the ``bridge.connectors`` entry point group, exactly as a real one would be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from bridge.daemon import run_daemon
from bridge.demo import DEMO_SECRETS
from bridge.ledger import Ledger
from bridge.sync import build_routes, close_routes
from tests.cli.test_cli import bridge
from tests.conftest import MAPPINGS
from tests.e2e.test_two_way_daemon import Cycles
from tests.simulated import Sims, open_ledger

pytestmark = pytest.mark.e2e

PAUSE_AFTER_TWO = {"BRIDGE_DAEMON__PAUSE_AFTER_FAILURES": "2"}

PLUGIN = '''
from bridge.connectors.memory import MemoryConnector


class BrokenConnector(MemoryConnector):
    """A third-party connector with a bug: its listing raises what nobody expected."""

    type = "broken"

    def pull(self, since=None):
        raise ZeroDivisionError("division by zero in a plug-in")
'''

BROKEN_ROUTE = f"""
[connectors.broken]
type = "broken"
mapping = "{MAPPINGS}/sidumas.toml"

[[routes]]
name = "broken-to-lapor"
source = "broken"
target = "lapor"
"""


def door_faults(sims: Sims, **switches: object) -> None:
    httpx.post(f"{sims.door.url}/_sim/faults", json=switches).raise_for_status()


def last_error(sims: Sims, route: str) -> str:
    with open_ledger(sims.config_path, DEMO_SECRETS) as ledger:
        last = ledger.cycles.status(route).last_cycle
    assert last is not None and last.error is not None
    return last.error


def health_of(sims: Sims, connector: str) -> tuple[int, str | None, bool]:
    """(failures in a row, last error, paused now) of ``connector``."""
    with open_ledger(sims.config_path, DEMO_SECRETS) as ledger:
        found = {h.connector: h for h in ledger.health.listed()}
    health = found[connector]
    return health.failures, health.last_error, health.paused_until is not None


def test_a_door_listing_answered_404_fails_its_route_and_pauses_the_door(sims: Sims) -> None:
    """A 404 on the door's listing: exit 1, the other route goes on, status says why, paused."""
    door_faults(sims, read_error_rate=1, error_status=404)
    config = str(sims.config_path)

    for _ in range(2):
        synced = bridge("sync", "--once", "--config", config, env=PAUSE_AFTER_TWO)
        assert synced.returncode == 1, synced.stderr
        assert "route sidumas-to-lapor stopped: ReadRefused" in synced.stderr
        assert "list_path" in synced.stderr
        assert "route lapor-to-sidumas stopped" not in synced.stderr
        assert "lapor-to-sidumas" in synced.stdout  # the other route ran and reported
        assert "Traceback" not in synced.stderr + synced.stdout

    assert last_error(sims, "sidumas-to-lapor").startswith("ReadRefused: sidumas: list: HTTP 404")
    failures, error, paused = health_of(sims, "sidumas")
    assert (failures, paused) == (2, True) and error is not None and "ReadRefused" in error
    status = bridge("status", "--config", config, env=PAUSE_AFTER_TWO)
    assert status.returncode == 0, status.stderr
    assert "ReadRefused" in status.stdout and "paused" in status.stdout


def test_a_lapor_search_answered_404_fails_the_route_and_counts_against_lapor(sims: Sims) -> None:
    """A 404 on LAPOR!'s search for an unconfirmed create: exit 1, the reason shown, paused."""
    config = str(sims.config_path)
    route = ("--route", "sidumas-to-lapor")
    # Every create's answer is lost after LAPOR! committed it: the next cycle must search.
    sims.hub_post("faults", {"drop_after_commit_rate": 1})
    assert bridge("sync", "--once", "--config", config, *route).returncode == 1
    refuse_reads = {"drop_after_commit_rate": 0, "read_error_rate": 1, "error_status": 404}
    sims.hub_post("faults", refuse_reads)

    synced = bridge("sync", "--once", "--config", config, *route, env=PAUSE_AFTER_TWO)

    assert synced.returncode == 1, synced.stderr
    assert "ReadRefused: lapor: search by reference: HTTP 404" in synced.stderr
    assert "Traceback" not in synced.stderr + synced.stdout
    assert "search by reference" in last_error(sims, "sidumas-to-lapor")
    failures, error, paused = health_of(sims, "lapor")
    assert failures == 2 and paused and error is not None and error.startswith("ReadRefused")
    status = bridge("status", "--config", config)
    assert "ReadRefused" in status.stdout


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    """A directory holding an installed third-party connector type ``broken``."""
    site = tmp_path / "site"
    info = site / "broken_door-1.0.dist-info"
    info.mkdir(parents=True)
    (site / "broken_door.py").write_text(PLUGIN, encoding="utf-8")
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-door\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[bridge.connectors]\nbroken = broken_door:BrokenConnector\n", encoding="utf-8"
    )
    return site


@pytest.fixture
def with_broken_route(sims: Sims, plugin: Path, monkeypatch: pytest.MonkeyPatch) -> Sims:
    """The simulators' configuration plus a route from the ``broken`` plug-in to LAPOR!."""
    monkeypatch.syspath_prepend(str(plugin))  # this process reads the configuration too
    with sims.config_path.open("a", encoding="utf-8") as config:
        config.write(BROKEN_ROUTE)
    return sims


def test_a_bug_in_a_connector_fails_only_its_route_without_a_traceback(
    with_broken_route: Sims, plugin: Path
) -> None:
    """An exception nobody expected: exit 1 with a one-line reason; the other routes deliver."""
    sims = with_broken_route
    env = {"PYTHONPATH": f"{plugin}:{Path.cwd()}"}

    synced = bridge("sync", "--once", "--config", str(sims.config_path), env=env)

    assert synced.returncode == 1, synced.stderr
    reason = "ZeroDivisionError: division by zero in a plug-in"
    assert f"route broken-to-lapor stopped: {reason}" in synced.stderr
    assert "Traceback" not in synced.stderr + synced.stdout
    assert sims.hub_copies()  # sidumas-to-lapor went on and delivered
    assert last_error(sims, "broken-to-lapor") == reason
    assert health_of(sims, "broken")[:2] == (1, reason)
    status = bridge("status", "--config", str(sims.config_path), env=env)
    assert "ZeroDivisionError" in status.stdout


@pytest.fixture
def daemon_logs(
    with_broken_route: Sims,
) -> Iterator[tuple[Cycles, list[dict[str, object]]]]:
    """The daemon running broken-to-lapor and sidumas-to-lapor, its log events captured."""
    config = with_broken_route.config()
    ledger = Ledger.open(config.ledger.url)
    routes = build_routes(config, ledger)
    chosen = [r for r in routes if r.name in {"broken-to-lapor", "sidumas-to-lapor"}]
    cycles, stop = Cycles(), threading.Event()
    intervals = {route.name: (0.05, 0.0) for route in chosen}
    thread = threading.Thread(
        target=run_daemon, args=(chosen, intervals), kwargs={"stop": stop, "on_cycle": cycles}
    )
    with capture_logs() as logs:
        thread.start()
        try:
            yield cycles, logs
        finally:
            stop.set()
            thread.join(timeout=120)
            close_routes(routes)
            ledger.close()


def test_the_daemon_logs_one_failed_event_per_cycle_and_runs_the_other_route(
    daemon_logs: tuple[Cycles, list[dict[str, object]]],
) -> None:
    """A route whose connector has a bug: route.cycle.failed, no traceback, the other goes on."""
    cycles, logs = daemon_logs

    reports = cycles.wait(rounds=2)

    assert all(r.ok for r in reports if r.route == "sidumas-to-lapor")
    broken = [r for r in reports if r.route == "broken-to-lapor" and r.paused is None]
    assert broken and all(r.error and r.error.startswith("ZeroDivisionError") for r in broken)
    failed = [e for e in logs if e["event"] == "route.cycle.failed"]
    assert failed and {e["route"] for e in failed} == {"broken-to-lapor"}
    assert not [e for e in logs if e["event"] == "route.cycle.crashed"]
    # A traceback only at debug level, which the daemon does not log unless asked to.
    with_trace = [e for e in logs if "exc_info" in e]
    assert with_trace and all(e["log_level"] == "debug" for e in with_trace)
