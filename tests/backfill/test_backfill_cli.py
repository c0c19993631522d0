"""`bridge backfill` as an admin runs it: a real process, simulators on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.demo import BADUNG, DEMO_SECRETS
from bridge.ledger import Ledger
from bridge.model import make_ref
from tests.e2e.test_sidumas_to_lapor import hub_complaints_by_ref
from tests.simulated import Sims

pytestmark = pytest.mark.e2e

ROUTE = "sidumas-to-lapor"


def _command(sims: Sims, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bridge",
        "backfill",
        "--route",
        ROUTE,
        "--since",
        "2023-01-01",
        "--config",
        str(sims.config_path),
        *extra,
    ]


def _env() -> dict[str, str]:
    return {**os.environ, **DEMO_SECRETS, "COLUMNS": "200"}


def run(sims: Sims, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(sims, *extra),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run_json(sims: Sims, *extra: str) -> dict[str, Any]:
    result = run(sims, "--json", *extra)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def _public(sims: Sims) -> list[dict[str, Any]]:
    return [r for r in sims.door_state.records if not r.get("hide_pengaduan")]


def _secret_count(sims: Sims) -> int:
    return sum(1 for r in sims.door_state.records if r.get("hide_pengaduan"))


def prepare(sims: Sims) -> str:
    """Two malformed SIDUMAS records; LAPOR! holds one complaint typed by hand, one stamped.

    Returns the SIDUMAS id of the complaint typed into LAPOR! by hand.
    """
    public = _public(sims)
    typed, stamped, base = public[0], public[1], public[2]
    for broken in ({"id": 9001, "topik": ""}, {"id": 9002, "kategori_id": 77}):
        record = {**base, "uraian": f"Laporan rusak {broken['id']}", **broken}
        httpx.post(f"{sims.door.url}/_sim/pengaduan", json=record).raise_for_status()
    reporter = {"is_new_user_slider": True, "nameUser": "Petugas Loket"}
    by_hand = {"title": typed["topik"], "content": typed["uraian"], "category_id": 1}
    old_copy = {
        "title": "Salinan lama dari SIDUMAS",
        "content": "Dibuat oleh pemasangan bridge sebelumnya, yang ledger-nya hilang.",
        "category_id": 1,
        "tags_raw": f"#{make_ref('sidumas', str(stamped['id']))}",
    }
    for complaint in (by_hand, old_copy):
        body = {**complaint, **reporter, "disposition_id": BADUNG}
        httpx.post(f"{sims.hub.url}/_sim/complaints", json=body).raise_for_status()
    return str(typed["id"])


def test_a_dry_run_prints_the_plan_and_writes_nothing_anywhere(sims: Sims, tmp_path: Path) -> None:
    """Would create N, link 2 (natural key, carried ref), set aside 2 with reasons; no writes."""
    prepare(sims)
    before = sims.hub_state.create_count

    printed = run(sims, "--dry-run")
    planned = run_json(sims, "--dry-run")

    assert printed.returncode == 0, printed.stderr
    assert "dry run, nothing written" in printed.stdout
    assert "would be created" in printed.stdout and "[values.category]" in printed.stdout
    secret = _secret_count(sims)
    assert planned["would_create"] == 30 - secret - 2
    assert planned["would_link"] == 2
    assert planned["linked_by"] == {"same_text": 1, "ref": 1}
    assert planned["set_aside"] == 2 and len(planned["set_aside_reasons"]) == 2
    assert planned["withheld"] == secret
    assert planned["total_in_window"] == 32
    assert sims.hub_state.create_count == before
    assert not (tmp_path / "bridge.db").exists()


def test_the_real_run_does_what_the_dry_run_said_and_a_rerun_creates_nothing(sims: Sims) -> None:
    """Real numbers = dry-run numbers; a second run finds everything already linked."""
    prepare(sims)
    planned = run_json(sims, "--dry-run")

    done = run_json(sims)
    again = run_json(sims)

    assert (done["created"], done["linked"]) == (planned["would_create"], planned["would_link"])
    for key in ("set_aside", "set_aside_reasons", "withheld", "total_in_window"):
        assert done[key] == planned[key], key
    assert (again["created"], again["linked"]) == (0, 0)
    assert again["already_linked"] == done["created"] + done["linked"]
    copies = hub_complaints_by_ref(sims)
    assert all(len(found) == 1 for found in copies.values())
    assert sims.hub_state.create_count == done["created"]


def test_a_backfill_killed_half_way_resumes_and_sends_each_complaint_once(sims: Sims) -> None:
    """SIGKILL while LAPOR! holds the answer to a create half-way; the rerun doubles nothing."""
    typed_by_hand = prepare(sims)
    sims.look_up_at_once()  # the rerun comes at once; the held create is looked up, not waited for
    sims.one_create_at_a_time()
    planned = run_json(sims, "--dry-run")
    half = planned["would_create"] // 2
    faults = {"hold_create_response_after": half}
    sims.hub_post("faults", faults)
    first = subprocess.Popen(
        _command(sims), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        held = httpx.get(f"{sims.hub.url}/_sim/wait_held", params={"timeout": 120}, timeout=130)
        assert held.json()["held"] >= 1, "the backfill never reached its half-way create"
    finally:
        first.kill()  # SIGKILL: no cleanup, no except-blocks, no ledger commit
        first.wait()
    sims.hub_post("faults", {"hold_create_response_after": None})
    sims.hub_post("release")
    assert sims.hub_state.create_count == half

    rerun = run_json(sims)

    copies = hub_complaints_by_ref(sims)
    assert all(len(found) == 1 for found in copies.values())
    assert sims.hub_state.create_count == planned["would_create"]
    assert rerun["created"] + half == planned["would_create"]
    assert rerun["linked_by"]["earlier_attempt"] >= 1  # at least the held create, found by ref
    not_created = {typed_by_hand, "9001", "9002"}  # adopted by its text; the two malformed
    expected = {make_ref("sidumas", str(r["id"])) for r in _public(sims)}
    assert set(copies) == expected - {make_ref("sidumas", i) for i in not_created}


def test_ctrl_c_exits_130_with_the_resume_hint_and_finishes_the_cycle_row(
    sims: Sims, tmp_path: Path
) -> None:
    """SIGINT mid-run: exit 130, the hint, the cycle row failed "interrupted"; rerun: all once."""
    sims.look_up_at_once()  # the rerun comes at once: a create cut short is looked up now
    first = subprocess.Popen(
        _command(sims, "--rate", "5/s"),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while sims.hub_state.create_count < 2 and first.poll() is None:
            assert time.monotonic() < deadline, "the backfill never reached its second create"
            time.sleep(0.05)
        first.send_signal(signal.SIGINT)  # what Ctrl-C sends
        _, stderr = first.communicate(timeout=60)
    finally:
        if first.poll() is None:  # a failed wait must not leave a backfill running
            first.kill()
            first.wait()

    assert first.returncode == 130, stderr
    assert "run the same command again" in " ".join(stderr.split())
    with Ledger.open(f"sqlite:///{tmp_path / 'bridge.db'}") as ledger:
        cycle = ledger.cycles.status(ROUTE).last_cycle
    assert cycle is not None and cycle.finished_at is not None
    assert (cycle.ok, cycle.error) == (False, "interrupted")
    rerun = run_json(sims)
    copies = hub_complaints_by_ref(sims)
    assert all(len(found) == 1 for found in copies.values())
    expected = {make_ref("sidumas", str(r["id"])) for r in _public(sims)}
    assert set(copies) == expected
    assert rerun["interrupted"] is False


def test_a_backfill_refuses_a_route_a_daemon_is_running(sims: Sims) -> None:
    """While another bridge holds the route's lease, the backfill says who, and sends nothing."""
    prepare(sims)
    with Ledger.open(sims.config().ledger.url) as ledger:
        lease = ledger.leases.claim(ROUTE, "daemon-host:4242", timedelta(minutes=5))
        assert lease is not None
        refused = run(sims)
        dry = run(sims, "--dry-run")  # a dry run writes nothing: it needs no lease
        ledger.leases.release(lease)
    assert refused.returncode == 2, refused.stderr
    assert "daemon-host:4242" in refused.stderr
    assert sims.hub_state.create_count == 0
    assert dry.returncode == 0, dry.stderr
    assert run(sims).returncode == 0  # once the daemon let go
