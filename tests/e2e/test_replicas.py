"""Replicas on one ledger: a killed daemon's route is taken over; `sync` and `status` see leases."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest
from structlog.testing import capture_logs

from bridge.daemon import RouteLeases
from bridge.demo import DEMO_SECRETS
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import build_routes, close_routes
from tests.cli.test_cli import bridge
from tests.e2e.test_sidumas_to_lapor import hub_complaints_by_ref
from tests.pg import fresh_pg_database
from tests.simulated import Sims

pytestmark = pytest.mark.e2e

ROUTE = "sidumas-to-lapor"
REPLICAS = 3
LEASE_SECONDS = 3
DEADLINE = 90.0  # seconds; generous, the test itself takes a few


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL database made for this test (the ledger the replicas share)."""
    with fresh_pg_database("lb_e2e") as url:
        yield url


def replica_config(sims: Sims, pg_url: str) -> Path:
    """The simulators' configuration on the shared ledger, fast cycles and a short lease."""
    text = sims.config_path.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{pg_url}"', text)
    text = re.sub(r'(?m)^(target = ".*")$', r"\1\ninterval_seconds = 0.5\njitter_seconds = 0", text)
    text += f"\n[daemon]\nlease_seconds = {LEASE_SECONDS}\n"
    path = sims.config_path.with_name("replicas.toml")
    path.write_text(text, encoding="utf-8")
    return path


def wait_for(what: str, check: Callable[[], bool], logs: list[Path]) -> None:
    """Poll ``check`` until it holds; fail with the daemons' logs after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)
            pytest.fail(f"timed out waiting until {what}\n{tails}")
        time.sleep(0.1)


@pytest.mark.postgres
def test_a_killed_replicas_route_is_taken_over_and_nothing_is_doubled(
    sims: Sims, pg_url: str, tmp_path: Path
) -> None:
    """SIGKILL the replica running SIDUMAS → LAPOR! mid-page: another takes over, once each."""
    config = replica_config(sims, pg_url)
    # The 5th create and later ones are committed by LAPOR! but not answered: the replica
    # that runs the route is then stuck mid-page, with creates it never heard about.
    sims.hub_post("faults", {"hold_create_response_after": 5})
    env = {**os.environ, **DEMO_SECRETS}
    names = [f"replica-{i}" for i in range(REPLICAS)]
    logs = [tmp_path / f"{name}.log" for name in names]
    files: list[IO[bytes]] = [path.open("wb") for path in logs]
    daemons = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bridge", "run", "--config", str(config), "--replica", name],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for name, log in zip(names, files, strict=True)
    }
    ledger = Ledger.open(pg_url)
    try:
        held = httpx.get(f"{sims.hub.url}/_sim/wait_held", params={"timeout": 60}, timeout=70)
        assert held.json()["held"] >= 1, "no replica reached the 5th create"
        lease = ledger.leases.of(ROUTE)
        assert lease is not None
        assert lease.holder in daemons
        assert not lease.is_free(datetime.now(UTC))
        stuck = lease.holder

        sims.hub_post("faults", {"hold_create_response_after": None})
        daemons[stuck].kill()  # SIGKILL: no release, no ledger commit
        daemons[stuck].wait()
        sims.hub_post("release")

        def taken_over() -> bool:
            info = ledger.leases.of(ROUTE)
            return info is not None and info.holder not in (None, stuck)

        wait_for("another replica took the route over", taken_over, logs)
        after = ledger.leases.of(ROUTE)
        assert after is not None
        assert after.run_number > lease.run_number

        expected = {
            make_ref("sidumas", str(r["id"]))
            for r in sims.door_state.records
            if not r.get("hide_pengaduan")
        }

        def all_in_lapor() -> bool:
            return expected <= set(hub_complaints_by_ref(sims)) and not ledger.creates.pending(
                ROUTE, "lapor"
            )

        wait_for("every complaint is in LAPOR! and no create is pending", all_in_lapor, logs)
        by_ref = hub_complaints_by_ref(sims)
        assert set(by_ref) == expected
        assert all(len(copies) == 1 for copies in by_ref.values())
        assert sims.hub_state.create_count == len(expected)  # the orphaned ones were adopted

        survivors = [name for name in names if name != stuck]
        for name in survivors:
            daemons[name].send_signal(signal.SIGTERM)
        for name in survivors:
            assert daemons[name].wait(timeout=60) == 0
        now = datetime.now(UTC)
        assert all(info.is_free(now) for info in ledger.leases.listed())  # released at shutdown
    finally:
        for daemon in daemons.values():
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait()
        for log in files:
            log.close()
        ledger.close()


def test_sync_refuses_a_route_a_daemon_holds_and_status_shows_the_leases(sims: Sims) -> None:
    """`sync --once` beside a daemon's lease exits 1 naming the holder; `status` lists leases."""
    with Ledger.open(sims.config().ledger.url) as ledger:
        assert ledger.leases.claim(ROUTE, "daemon-host:4242", timedelta(minutes=10)) is not None

    refused = bridge("sync", "--once", "--route", ROUTE, "--config", str(sims.config_path))

    assert refused.returncode == 1
    message = " ".join(refused.stderr.split())
    assert f"route {ROUTE} not run: another bridge (daemon-host:4242) is running it" in message
    assert sims.hub_state.create_count == 0

    other = bridge(
        "sync", "--once", "--route", "lapor-to-sidumas", "--config", str(sims.config_path)
    )
    assert other.returncode == 0, other.stderr

    status = bridge("status", "--config", str(sims.config_path))
    assert status.returncode == 0, status.stderr
    table = status.stdout.split("Route leases", 1)[1]
    lines = {line.split("│")[1].strip(): line for line in table.splitlines() if "│" in line}
    assert "daemon-host:4242" in lines[ROUTE]
    assert "free" in lines["lapor-to-sidumas"]  # released when the sync ended


def test_a_second_runner_skips_a_held_route_with_one_clear_log_line(sims: Sims) -> None:
    """While replica A holds the route, B's cycle is skipped and says who holds it until when."""
    config = sims.config()
    ledger = Ledger.open(config.ledger.url)
    routes = {route.name: route for route in build_routes(config, ledger)}
    ttl = timedelta(minutes=5)
    a, b = RouteLeases("replica-a", ttl), RouteLeases("replica-b", ttl)
    try:
        report = a.run(routes[ROUTE])
        assert report is not None and report.ok, report
        with capture_logs() as logs:
            assert b.run(routes[ROUTE]) is None
        [line] = [e for e in logs if e["event"] == "route.lease.held_elsewhere"]
        info = ledger.leases.of(ROUTE)
        assert info is not None and info.expires_at is not None
        assert line["holder"] == "replica-a"
        assert line["expires_at"] == info.expires_at.isoformat()
        assert not any(e["event"] == "route.cycle.started" for e in logs)

        a.release_all()
        assert b.run(routes[ROUTE]) is not None  # released: B takes over at once
        info = ledger.leases.of(ROUTE)
        assert info is not None
        assert (info.holder, info.run_number) == ("replica-b", 2)
    finally:
        b.release_all()
        close_routes(list(routes.values()))
        ledger.close()
