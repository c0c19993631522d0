"""Both directions in one daemon over real HTTP: creates, follow-ups and statuses, then quiet."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bridge.daemon import run_daemon
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import CycleReport, build_routes, close_routes
from tests.e2e.test_sidumas_to_lapor import hub_complaints_by_ref
from tests.simulated import Sims

pytestmark = pytest.mark.e2e
BADUNG = 1001
WRITES = ("create", "link", "followup", "status", "forward")


class Cycles:
    """Hears every finished cycle; the test waits on it instead of sleeping."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.reports: list[CycleReport] = []

    def __call__(self, report: CycleReport) -> None:
        with self.cond:
            self.reports.append(report)
            self.cond.notify_all()

    def wait(self, rounds: int) -> list[CycleReport]:
        """Wait for ``rounds`` more cycles of every route; return those reports."""
        with self.cond:
            start = len(self.reports)

            def done() -> bool:
                seen = Counter(r.route for r in self.reports[start:])
                return len(seen) == 2 and min(seen.values()) >= rounds

            assert self.cond.wait_for(done, timeout=180), "the daemon stopped cycling"
            return self.reports[start:]


@dataclass
class Daemon:
    cycles: Cycles
    ledger: Ledger


@pytest.fixture
def daemon(sims: Sims) -> Iterator[Daemon]:
    sims.hub_state.seed_from_corpus(6)
    for tracking_id in sorted(sims.hub_state.complaints)[:3]:
        if sims.hub_state.complaints[tracking_id]["disposition_id"] != BADUNG:
            sims.hub_state.dispose(tracking_id, BADUNG)
    config = sims.config()
    ledger = Ledger.open(config.ledger.url)
    routes = build_routes(config, ledger)
    cycles, stop = Cycles(), threading.Event()
    intervals = {route.name: (0.05, 0.0) for route in routes}
    thread = threading.Thread(
        target=run_daemon, args=(routes, intervals), kwargs={"stop": stop, "on_cycle": cycles}
    )
    thread.start()
    try:
        yield Daemon(cycles, ledger)
    finally:
        stop.set()
        thread.join(timeout=120)
        close_routes(routes)
        ledger.close()


def test_both_directions_follow_ups_and_statuses_then_zero_writes(
    sims: Sims, daemon: Daemon
) -> None:
    """Creates both ways once; an answer typed on each side crosses once with its status."""
    daemon.cycles.wait(rounds=2)
    # SIDUMAS → LAPOR!: every non-confidential complaint once.
    by_ref = hub_complaints_by_ref(sims)
    assert all(len(copies) == 1 for copies in by_ref.values())
    # LAPOR! → SIDUMAS: every complaint disposed to Badung once (found by its reference).
    disposed = [
        str(t)
        for t, c in sims.hub_state.complaints.items()
        if c["disposition_id"] == BADUNG and "#lb" not in str(c.get("tags_raw"))
    ]
    assert disposed
    refs_in_door = Counter(r.get("ref_eksternal") for r in sims.door_state.records)
    for tracking_id in disposed:
        assert refs_in_door[make_ref("lapor", tracking_id)] == 1

    # People answer: an officer in SIDUMAS, LAPOR!'s admin in LAPOR!.
    from_hub = next(
        r
        for r in sims.door_state.records
        if r.get("ref_eksternal") == make_ref("lapor", disposed[0])
    )
    sims.door_state.add_tanggapan(
        from_hub["id"],
        {"tanggapan": "Jalan sudah ditambal.", "nama": "PUPR", "tipe": 1, "status_id": 2},
    )
    door_id = next(
        str(r["id"])
        for r in sims.door_state.records
        if not r.get("ref_eksternal") and not r.get("hide_pengaduan")
    )
    ref = make_ref("sidumas", door_id)
    [hub_copy] = by_ref[ref]
    if hub_copy["status_code"] == 0:
        sims.hub_state.verify(hub_copy["id"])
    sims.hub_state.add_followup(
        {"complaint_id": hub_copy["id"], "content": "Mohon lampirkan foto."}, []
    )
    daemon.cycles.wait(rounds=2)

    in_lapor = sims.hub_state.get(int(disposed[0]))
    assert [f["content"] for f in in_lapor["followups"]].count("Jalan sudah ditambal.") == 1
    in_door = sims.door_state.find(door_id)
    assert [t["tanggapan"] for t in in_door["tanggapans"]].count("Mohon lampirkan foto.") == 1
    assert in_door["status"] == 1  # LAPOR!'s verification reached SIDUMAS

    quiet = daemon.cycles.wait(rounds=2)
    writes = {k: v for r in quiet for k, v in r.counts.items() if k in WRITES and v}
    assert writes == {}, f"converged sides kept writing: {writes}"
