"""The `bridge` command as a user runs it: a real process, real simulators on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from bridge.demo import DEMO_SECRETS
from bridge.ledger import Ledger
from tests.conftest import MAPPINGS
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def bridge(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    secrets: Mapping[str, str] = DEMO_SECRETS,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI as a process; ``secrets`` are its only configuration variables (``BRIDGE_…__…``).

    ``cwd`` is its working directory (default: the test run's).
    """
    kept = {k: v for k, v in os.environ.items() if not (k.startswith("BRIDGE_") and "__" in k)}
    environ = {**kept, **secrets, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env=environ,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
    )


def test_dry_run_prints_the_plan_and_writes_nothing_anywhere(sims: Sims, tmp_path: Path) -> None:
    """sync --dry-run lists the creates; LAPOR! gets no request to create; no ledger file."""
    result = bridge("sync", "--once", "--dry-run", "--config", str(sims.config_path))
    assert result.returncode == 0, result.stderr
    assert "dry run, nothing written" in result.stdout
    secret = sum(1 for r in sims.door_state.records if r.get("hide_pengaduan"))
    assert f"create {30 - secret}" in result.stdout
    assert sims.hub_state.create_count == 0
    assert not (tmp_path / "bridge.db").exists()


def test_sync_then_status_and_trace_show_the_route_and_the_complaint(sims: Sims) -> None:
    """After a sync, status shows the route's counts and trace follows a LAPOR! tracking id."""
    synced = bridge("sync", "--once", "--config", str(sims.config_path))
    assert synced.returncode == 0, synced.stderr
    status = bridge("status", "--config", str(sims.config_path))
    assert status.returncode == 0, status.stderr
    assert "sidumas-to-lapor" in status.stdout and "create" in status.stdout
    assert "to review" in status.stdout
    tracking_id = str(min(sims.hub_state.complaints))
    traced = bridge("trace", tracking_id, "--config", str(sims.config_path))
    assert traced.returncode == 0, traced.stderr
    assert "sidumas" in traced.stdout and tracking_id in traced.stdout
    assert "complaint.created" in traced.stdout


def test_trace_finds_a_complaint_by_the_sidumas_ticket_people_are_shown(sims: Sims) -> None:
    """After a sync, trace (and trace --json) finds a complaint by its SDM-… ticket, any case."""
    synced = bridge("sync", "--once", "--config", str(sims.config_path))
    assert synced.returncode == 0, synced.stderr
    record = next(r for r in sims.door_state.records if not r.get("hide_pengaduan"))
    ticket = str(record["no_tiket"])
    assert ticket.startswith("SDM-")

    traced = bridge("trace", f" {ticket.lower()} ", "--config", str(sims.config_path))
    assert traced.returncode == 0, traced.stderr
    assert ticket in traced.stdout and "complaint.created" in traced.stdout

    as_json = bridge("trace", ticket, "--json", "--config", str(sims.config_path))
    assert as_json.returncode == 0, as_json.stderr
    (found,) = json.loads(as_json.stdout)
    sidumas = next(link for link in found["links"] if link["system"] == "sidumas")
    assert (sidumas["remote_id"], sidumas["ticket"]) == (str(record["id"]), ticket)
    # The lapor mapping reads its ticket from the tracking id: the LAPOR! link shows it too,
    # and that number finds the same complaint.
    lapor = next(link for link in found["links"] if link["system"] == "lapor")
    assert lapor["ticket"] == lapor["remote_id"]
    by_tracking = bridge("trace", lapor["ticket"], "--json", "--config", str(sims.config_path))
    assert [t["ref"] for t in json.loads(by_tracking.stdout)] == [found["ref"]]


def test_trace_of_an_unknown_id_says_so(sims: Sims) -> None:
    """An id the ledger never saw exits 1 with a message naming the numbers to try."""
    Ledger.open(sims.config().ledger.url).close()  # an empty ledger: without one, exit 2
    result = bridge("trace", "999999999", "--config", str(sims.config_path))
    assert result.returncode == 1
    assert "No complaint" in result.stderr
    assert "ticket number" in result.stderr and "LAPOR! tracking id" in result.stderr


def test_a_missing_secret_names_the_variable_to_set(sims: Sims) -> None:
    """Without the LAPOR! token the command exits 2 and names BRIDGE_CONNECTORS__LAPOR__API_KEY."""
    secrets = {k: v for k, v in DEMO_SECRETS.items() if not k.endswith("LAPOR__API_KEY")}
    result = bridge("sync", "--once", "--config", str(sims.config_path), secrets=secrets)
    assert result.returncode == 2
    assert "BRIDGE_CONNECTORS__LAPOR__API_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_mapping_check_passes_the_shipped_files_and_lists_every_problem_of_a_bad_one(
    tmp_path: Path,
) -> None:
    """mapping check: shipped files pass (exit 0); a broken file exits 2 naming its keys."""
    good = bridge("mapping", "check", *map(str, sorted(MAPPINGS.glob("*.toml"))))
    assert good.returncode == 0, good.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[mapping]\nsystem = "x"\ntimezone = "Mars/Olympus"\nid = "id"\n'
        '[fields]\ntitle = "t"\ncontent = { path = "c", type = "datetim" }\n',
        encoding="utf-8",
    )
    result = bridge("mapping", "check", str(bad))
    assert result.returncode == 2
    assert "timezone" in result.stderr and "datetim" in result.stderr


def test_mapping_try_prints_the_canonical_complaint_and_the_way_back(tmp_path: Path) -> None:
    """mapping try shows the canonical complaint of a SIDUMAS record and its native form."""
    record = {
        "id": 7,
        "no_tiket": "SDM-2026-000007",
        "topik": "Lampu jalan mati",
        "uraian": "Sudah dua minggu lampu jalan di depan pura mati.",
        "tanggal": "2026-02-03 19:30:00",
        "kategori_id": 1,
        "status": 0,
        "status_pengaduan": "Menunggu",
        "hide_identitas": 0,
        "hide_pengaduan": 0,
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = bridge("mapping", "try", str(MAPPINGS / "sidumas.toml"), str(path))
    assert result.returncode == 0, result.stderr
    assert '"category": "infrastruktur"' in result.stdout
    assert "+08:00" in result.stdout  # naive WITA time read in its zone
    assert '"topik": "Lampu jalan mati"' in result.stdout


def test_the_daemon_ends_its_running_cycle_safely_on_sigterm_then_exits_0(sims: Sims) -> None:
    """SIGTERM while a create is in flight: the cycle ends at a safe point, exit 0, no doubles."""
    sims.look_up_at_once()  # the rerun comes at once: the create cut short is looked up now
    httpx.post(f"{sims.hub.url}/_sim/faults", json={"hold_create_response": True})
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bridge", "run", "--config", str(sims.config_path)],
        env={**os.environ, **DEMO_SECRETS},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        held = httpx.get(f"{sims.hub.url}/_sim/wait_held", params={"timeout": 120}, timeout=130)
        assert held.json()["held"] >= 1
        daemon.send_signal(signal.SIGTERM)
        httpx.post(f"{sims.hub.url}/_sim/faults", json={"hold_create_response": False})
        httpx.post(f"{sims.hub.url}/_sim/release")
        _stdout, stderr = daemon.communicate(timeout=120)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, stderr
    # Logs are JSON lines on stderr under `bridge run`; stdout is left for the CLI's own output.
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    events = [(line["event"], line.get("route")) for line in lines]
    held_route_done = events.index(("route.cycle.finished", "sidumas-to-lapor"))
    assert events.index(("daemon.stopping", None)) < held_route_done
    assert ("daemon.stopped", None) in events
    # The cycle stopped at its next safe point (no request starts once the bridge is
    # stopping): the next run carries on, and the create in flight is never made twice.
    rerun = bridge("sync", "--once", "--config", str(sims.config_path))
    assert rerun.returncode == 0, rerun.stderr
    secret = sum(1 for r in sims.door_state.records if r.get("hide_pengaduan"))
    copies = sims.hub_copies()
    assert len(copies) == 30 - secret
    assert set(copies.values()) == {1}


def test_the_demo_runs_both_ways_and_a_second_run_writes_nothing(tmp_path: Path) -> None:
    """`bridge demo` twice: creates and copies both ways once, then only skips."""
    first = bridge("demo", "--dir", str(tmp_path / "demo"), "--count", "12")
    assert first.returncode == 0, first.stderr
    assert "created in LAPOR!" in first.stdout
    assert first.stdout.count(" appears in ") == 2, first.stdout
    second = bridge("demo", "--dir", str(tmp_path / "demo"), "--count", "12")
    assert second.returncode == 0, second.stderr
    assert "0 created in LAPOR!" in second.stdout
    assert "0 LAPOR! dispositions created in SIDUMAS" in second.stdout
    route_lines = [line for line in second.stdout.splitlines() if line.startswith("  ")]
    for line in route_lines:
        for write in ("create", "followup", "status", "forward"):
            assert f"{write} " not in line, f"a second demo run wrote something: {line}"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("status", "--bogus"), "Try 'bridge status --help' for help."),
        (("review", "done"), "Missing argument 'ID...'"),
        (("sync", "--once", "--route"), "requires an argument"),
    ],
)
def test_a_wrong_command_line_prints_its_usage_not_a_traceback(
    args: tuple[str, ...], said: str
) -> None:
    """Exit 2 with the usage line and the problem; a traceback would hide both."""
    result = bridge(*args)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unexpected_error_is_one_line_and_a_traceback_only_with_debug(tmp_path: Path) -> None:
    """A failure no handler foresaw (JSON nested too deep) exits 3 with one line, no traceback."""
    record = tmp_path / "deep.json"
    record.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    args = ("mapping", "try", str(MAPPINGS / "sidumas.toml"), str(record))

    plain = bridge(*args)
    assert plain.returncode == 3
    assert "error: RecursionError" in plain.stderr and "--debug" in plain.stderr
    assert "Traceback" not in plain.stderr

    debug = bridge("--debug", *args)
    assert debug.returncode == 3
    assert "Traceback" in debug.stderr
