"""The chaos run: both ways, faults on, daemons SIGKILLed at random moments, then the count.

One run:

1. starts the LAPOR! and SIDUMAS simulators on loopback, seeded with ``complaints``
   complaints, half filed in each system (the LAPOR! ones disposed to Badung);
2. switches faults on in both (errors, 429 with Retry-After, latency, timeouts,
   and writes committed whose answer is then dropped);
3. starts ``replicas`` real ``bridge run`` processes on one ledger;
4. ``kills`` times: waits until the simulators have answered a random number of
   further requests (progress, not time), has people act (officers answer in
   SIDUMAS, moving the status; LAPOR!'s admin verifies and writes follow-ups), then
   SIGKILLs the replica holding the most routes at that moment and starts it again
   (with several replicas, only after more progress, so that its leases expire and
   the others take its routes over); with ``lost_ledger``, twice of those times the
   whole fleet is killed and the ledger swapped instead — for a copy taken earlier
   (SQLite), then for nothing — and the admin accepts it (``tests/chaos/ledger_swap.py``);
5. switches the faults off and lets the daemons run until every route has had two
   cycles in a row that wrote nothing;
6. counts, on both systems and in the ledger: every complaint exactly once on each
   side, every follow-up exactly once, the ledger's links pointing at records that
   exist, and the status each officer set arrived in LAPOR!.

``python -m tests.chaos.harness --help`` runs it by hand (``make chaos`` runs the long
one); ``tests/chaos/test_chaos.py`` runs the CI-sized one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bridge.demo import BADUNG, DEMO_SECRETS, write_config
from bridge.ledger.polls import OWED
from bridge.ledger.tables import FOLLOWUP_COPY, PENDING_OP, QUARANTINE, ROUTE_LEASE, ROUTE_LINK
from bridge.ledger.types import COPY_DONE, PENDING_STARTED
from bridge.mapping import load_mapping
from bridge.model import make_ref as _make_ref
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.corpus import CorpusEntry, load_corpus
from bridge.testing.simulators.lapor_rules import STATUSES as LAPOR_STATUSES
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from bridge.testing.simulators.sidumas_data import STATUS_LABELS
from bridge.testing.simulators.sidumas_state import SidumasState
from tests.chaos import ledger_swap, review
from tests.simulated import hub_by_ref as complaints_by_ref

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
INSTALLATION = "pemkab-badung-chaos"
"""``[ledger] installation`` of the run: references the bridge can tell as its own."""


def make_ref(system: str, source_id: str) -> str:
    """The reference the bridge under test gives a record of ``system``."""
    return _make_ref(system, source_id, INSTALLATION)


FAULTS = {
    "seed": 11,
    "error_rate": 0.03,
    "rate_limit_rate": 0.02,
    "retry_after": 1,
    "drop_after_commit_rate": 0.03,
    "timeout_rate": 0.002,
    "timeout_seconds": 3,
    "latency_ms": 2,
    "latency_jitter_ms": 8,
}
FAULTS_OFF = {
    "error_rate": 0,
    "rate_limit_rate": 0,
    "drop_after_commit_rate": 0,
    "timeout_rate": 0,
    "latency_ms": 0,
    "latency_jitter_ms": 0,
}
# Written into the generated configuration: short waits so a run takes minutes, not hours.
CONNECTOR_KEYS = """\
timeout_seconds = 2
retry_attempts = 4
retry_max_seconds = 10
"""
DAEMON_KEYS = """\
log_level = "warning"
log_format = "json"
pause_after_failures = 3
first_pause_seconds = 1
max_pause_seconds = 4
lease_seconds = {lease_seconds}
"""
ROUTE_KEYS = """\
interval_seconds = 0.5
jitter_seconds = 0
repoll_budget = 200
linked_retry_seconds = 1
"""
DUPLICATES_ON = "\n[routes.duplicates]\nenabled = true\n"
BRIDGE_RUN = (sys.executable, "-m", "bridge", "run")
WRITES = ("create", "link", "adopt", "followup", "status", "forward")


@dataclass(frozen=True)
class ChaosSettings:
    complaints: int = 2000
    """Total complaints seeded, half in each system."""
    kills: int = 10
    replicas: int = 1
    ledger_url: str | None = None
    """Default: an SQLite file in the work folder."""
    seed: int = 7
    lease_seconds: float = 5
    followups_per_round: int = 20
    deadline_seconds: float = 1200
    faults: dict[str, Any] = field(default_factory=lambda: dict(FAULTS))
    lost_ledger: bool = True
    """Swap the ledger mid-run (see ``tests/chaos/ledger_swap.py``); needs 4 kills or more."""
    duplicates: bool = False
    """Turn the cross-door duplicate check (``[routes.duplicates]``) on in every route."""


@dataclass
class ChaosResult:
    complaints: int
    door_expected: int
    hub_expected: int
    followups_typed: int
    statuses_set: int
    kills: int
    faults_injected: dict[str, int]
    seconds: float
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    followup_problems: list[str] = field(default_factory=list)
    status_problems: list[str] = field(default_factory=list)
    ledger_problems: list[str] = field(default_factory=list)
    ledger_swaps: list[str] = field(default_factory=list)
    held_for_review: int = 0
    """Records the duplicate check held for a person, then delivered on her word (``review``)."""
    joined_as_duplicates: int = 0
    """With the check on: originals not copied because the check linked them to the other
    door's record of the same text (the run seeds both doors from one corpus: twins)."""

    @property
    def problems(self) -> list[str]:
        """Everything found wrong, in one list."""
        return (
            self.duplicates
            + self.lost
            + self.followup_problems
            + self.status_problems
            + self.ledger_problems
        )

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> dict[str, Any]:
        return {
            "complaints": self.complaints,
            "expected_in_lapor": self.door_expected,
            "expected_in_sidumas": self.hub_expected,
            "followups_typed": self.followups_typed,
            "statuses_set": self.statuses_set,
            "kills": self.kills,
            "ledger_swaps": self.ledger_swaps,
            "held_for_review": self.held_for_review,
            "joined_as_duplicates": self.joined_as_duplicates,
            "faults_injected": self.faults_injected,
            "duplicates": len(self.duplicates),
            "lost": len(self.lost),
            "followup_problems": len(self.followup_problems),
            "status_problems": len(self.status_problems),
            "ledger_problems": len(self.ledger_problems),
            "seconds": round(self.seconds, 1),
            "examples": self.problems[:10],
        }


@dataclass
class _Typed:
    """What people did during the run, to be found exactly once on the other side."""

    in_door: list[tuple[str, str]] = field(default_factory=list)  # (door id, text)
    in_hub: list[tuple[int, str]] = field(default_factory=list)  # (tracking id, text)
    door_status: dict[str, int] = field(default_factory=dict)  # door id → SIDUMAS status
    hub_touched: set[str] = field(default_factory=set)  # door ids whose LAPOR! copy got a note
    verified: set[str] = field(default_factory=set)  # door ids, new on both sides, verified


def run_chaos(settings: ChaosSettings, workdir: Path) -> ChaosResult:
    """One chaos run in ``workdir``; the result says what was lost or doubled, if anything."""
    started = time.monotonic()
    rng = random.Random(settings.seed)
    hub_state, door_state = LaporState(), SidumasState()
    door_count = settings.complaints // 2
    hub_count = settings.complaints - door_count
    _seed(hub_state, door_state, hub_count, door_count)
    ledger = sa.create_engine(config_ledger_url(settings, workdir))
    try:
        with ExitStack() as stack:
            hub = stack.enter_context(serve_in_thread(lapor.create_app(hub_state)))
            # Pages of 200: SIDUMAS is a scan source, listed whole every cycle, and with 20 a
            # page the run would measure pagination, not faults and kills.
            door_app = sidumas.create_app(door_state, per_page=200)
            door = stack.enter_context(serve_in_thread(door_app))
            # Dropped answers and killed clients make uvicorn log an error each: expected here.
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
            sims = _Sims(hub, door)
            stack.callback(sims.http.close)
            config = _write_config(settings, workdir, hub.url, door.url)
            sims.faults(settings.faults)
            fleet = stack.enter_context(_fleet(config, settings.replicas, workdir))
            typed = _Typed()
            deadline = started + settings.deadline_seconds
            # The kills spread over the whole run: about three requests per complaint in all.
            step = max(100, 3 * settings.complaints // max(1, settings.kills))
            swaps = _swap_plan(settings)
            swapped: list[str] = []
            for index in range(settings.kills):
                sims.wait_for_requests(rng.randint(step // 2, step * 3 // 2), fleet, deadline)
                _people_act(sims, rng, settings.followups_per_round, typed)
                if swaps.get(index) == SNAPSHOT:  # last night's backup, taken while running
                    ledger_swap.snapshot(config_ledger_url(settings, workdir), _old_copy(workdir))
                elif index in swaps:
                    ledger.dispose()  # no connection of ours may hold the old file open
                    swapped.append(_swap_ledger(swaps[index], settings, workdir, fleet, config))
                    continue
                victim = _busiest(ledger, fleet.names)
                fleet.kill_one(victim)
                if settings.replicas > 1:
                    # Stay down a while: its leases expire and the others take its routes over.
                    sims.wait_for_requests(rng.randint(step // 4, step // 2), fleet, deadline)
                fleet.start(victim)
            injected = sims.injected()
            sims.faults(FAULTS_OFF)
            _wait_quiet(ledger, fleet, deadline)
            held = 0
            url = config_ledger_url(settings, workdir)
            while settings.duplicates:
                # Quiet again means two write-free cycles begun after the person decided.
                after = _last_cycle(ledger)
                if not (decided := review.review_all(url)):
                    break
                held += decided  # each then fetched again and delivered on its own
                _wait_quiet(ledger, fleet, deadline, after=after)
            fleet.stop()
        result = ChaosResult(
            complaints=settings.complaints,
            door_expected=0,
            hub_expected=0,
            followups_typed=len(typed.in_door) + len(typed.in_hub),
            statuses_set=len(typed.door_status) + len(typed.verified),
            kills=fleet.kills,
            faults_injected=injected,
            seconds=0.0,
            ledger_swaps=swapped,
            held_for_review=held,
        )
        _count(result, hub_state, door_state, typed, ledger, joins=settings.duplicates)
    finally:
        ledger.dispose()
    result.seconds = time.monotonic() - started
    return result


# -- the lost ledger ---------------------------------------------------------------------------
SNAPSHOT = "snapshot"


def _swap_plan(settings: ChaosSettings) -> dict[int, str]:
    """Kill rounds (by index) that do something to the ledger instead of killing one replica."""
    n = settings.kills
    if not settings.lost_ledger or n < 4:
        return {}
    plan = {3 * n // 4: ledger_swap.LOST}
    if ledger_swap.sqlite_path(config_ledger_url(settings, Path())) is not None:
        plan |= {n // 4: SNAPSHOT, n // 2: ledger_swap.OLD_COPY}
    return plan


def _old_copy(workdir: Path) -> Path:
    return workdir / "ledger-old-copy.db"


def _swap_ledger(
    kind: str, settings: ChaosSettings, workdir: Path, fleet: _Fleet, config: Path
) -> str:
    """Kill the whole fleet, swap its ledger, accept it as the admin would, start again."""
    for name in list(fleet.processes):
        fleet.kill_one(name)
    ledger_swap.replace_ledger(config_ledger_url(settings, workdir), kind, _old_copy(workdir))
    ledger_swap.accept(config, workdir / "accept.log")
    for name in fleet.names:
        fleet.start(name)
    return kind


# -- set-up ----------------------------------------------------------------------------------------
def _seed(hub_state: LaporState, door_state: SidumasState, hub_count: int, door_count: int) -> None:
    """Seed both simulators before they serve anything (no request can race the seeding)."""
    corpus = load_corpus()
    door_state.seed(door_count, corpus)
    # LAPOR!'s seeding keeps real tracking ids; fresh ones let any corpus size fill any count.
    entries: list[CorpusEntry] = [
        dataclasses.replace(corpus[i % len(corpus)], tracking_id=str(7_000_000 + i))
        for i in range(hub_count)
    ]
    hub_state.seed_from_corpus(hub_count, entries)
    for tracking_id, complaint in hub_state.complaints.items():
        if complaint["disposition_id"] != BADUNG:
            hub_state.dispose(tracking_id, BADUNG)


def config_ledger_url(settings: ChaosSettings, workdir: Path) -> str:
    return settings.ledger_url or f"sqlite:///{workdir / 'ledger.db'}"


def _write_config(settings: ChaosSettings, workdir: Path, hub_url: str, door_url: str) -> Path:
    path = write_config(workdir, hub_url, door_url, workdir / "ledger.db")
    text = path.read_text(encoding="utf-8")
    if settings.ledger_url:
        sqlite_url = f'url = "sqlite:///{workdir / "ledger.db"}"'
        text = text.replace(sqlite_url, f"url = {json.dumps(settings.ledger_url)}", 1)
    text = text.replace("[ledger]\n", f"[ledger]\ninstallation = {json.dumps(INSTALLATION)}\n", 1)
    for name in ("lapor", "sidumas"):
        text = text.replace(f"[connectors.{name}]\n", f"[connectors.{name}]\n{CONNECTOR_KEYS}", 1)
    text = text.replace("[[routes]]\n", f"[[routes]]\n{ROUTE_KEYS}")
    if settings.duplicates:  # a sub-table closes its route's block: appended to each
        head, *blocks = text.split("[[routes]]\n")
        text = head + "".join(f"[[routes]]\n{b.rstrip()}\n{DUPLICATES_ON}\n" for b in blocks)
    text += "\n[daemon]\n" + DAEMON_KEYS.format(lease_seconds=settings.lease_seconds)
    path.write_text(text, encoding="utf-8")
    return path


# -- the simulators, seen through their control routes (never faulted) -------------------------
class _Sims:
    def __init__(self, hub: RunningServer, door: RunningServer) -> None:
        self.hub = hub
        self.door = door
        self.http = httpx.Client(timeout=30)

    def faults(self, switches: dict[str, Any]) -> None:
        for server in (self.hub, self.door):
            self.http.post(f"{server.url}/_sim/faults", json=switches).raise_for_status()

    def _faults(self) -> list[dict[str, Any]]:
        return [self.http.get(f"{s.url}/_sim/faults").json() for s in (self.hub, self.door)]

    def requests(self) -> int:
        return sum(int(report["requests"]) for report in self._faults())

    def injected(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for report in self._faults():
            total.update(report["injected"])
        return dict(total)

    def wait_for_requests(self, more: int, fleet: _Fleet, deadline: float) -> None:
        """Wait until the simulators have answered ``more`` further requests: a random moment."""
        target = self.requests() + more
        while self.requests() < target:
            fleet.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("the chaos run passed its deadline while waiting for progress")
            time.sleep(0.02)  # polling a condition; nothing is timed on it

    def hub_complaints(self) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.hub.url}/_sim/complaints").json())

    def door_records(self) -> list[dict[str, Any]]:
        return list(self.http.get(f"{self.door.url}/_sim/pengaduan").json())

    def hub_post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(f"{self.hub.url}/_sim{path}", json=body or {})

    def door_post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"{self.door.url}/_sim{path}", json=body)


def _people_act(sims: _Sims, rng: random.Random, count: int, typed: _Typed) -> None:
    """Officers answer in SIDUMAS (moving its status); LAPOR!'s admin notes in LAPOR!.

    Only on complaints that have crossed already, as people would: one cannot answer in
    LAPOR! a complaint that is not there yet.
    """
    hub_by_ref = complaints_by_ref(sims.hub_complaints())
    door_records = sims.door_records()
    crossed = [r for r in door_records if make_ref("sidumas", str(r["id"])) in hub_by_ref]
    rng.shuffle(crossed)
    for record in crossed[:count]:
        door_id = str(record["id"])
        if rng.random() < 0.5 and door_id not in typed.hub_touched:
            text = f"Tanggapan petugas PUPR (chaos {len(typed.in_door)})"
            status = rng.choice([2, 2, 3]) if door_id not in typed.door_status else None
            body: dict[str, Any] = {"tanggapan": text, "nama": "PUPR", "tipe": 1}
            if status is not None:
                body["status_id"] = status
            sims.door_post(f"/pengaduan/{door_id}/tanggapan", body).raise_for_status()
            typed.in_door.append((door_id, text))
            if status is not None:
                typed.door_status[door_id] = status
        elif door_id not in typed.door_status:
            (copy,) = hub_by_ref[make_ref("sidumas", door_id)]
            if copy["status_code"] == 0:
                sims.hub_post(f"/complaints/{copy['id']}/verify").raise_for_status()
                if record["status"] == 0:
                    typed.verified.add(door_id)
            text = f"Catatan admin LAPOR! (chaos {len(typed.in_hub)})"
            body = {"content": text, "institution_from_id": 1, "author": "Admin"}
            sims.hub_post(f"/complaints/{copy['id']}/followups", body).raise_for_status()
            typed.in_hub.append((int(copy["id"]), text))
            typed.hub_touched.add(door_id)


# -- the daemons ---------------------------------------------------------------------------------
class _Fleet:
    """``replicas`` real ``bridge run`` processes; SIGKILLed and restarted on demand."""

    def __init__(self, config: Path, replicas: int, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.names = [f"chaos-{i + 1}" for i in range(replicas)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.kills = 0
        for name in self.names:
            self.start(name)

    def start(self, name: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [*BRIDGE_RUN, "--config", str(self.config), "--replica", name],
            env={**os.environ, **DEMO_SECRETS},
            stdout=log,
            stderr=log,
        )
        log.close()

    def kill_one(self, name: str) -> None:
        """SIGKILL this replica (no cleanup at all); ``start`` it again by the same name."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"replica {name} exited by itself with {process.returncode}; "
                    f"see {self.workdir / (name + '.log')}"
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _busiest(ledger: sa.Engine, names: list[str]) -> str:
    """The replica holding the most live route leases: killing it interrupts real work."""
    try:
        with ledger.connect() as conn:
            rows = conn.execute(
                sa.select(ROUTE_LEASE.c.holder, ROUTE_LEASE.c.expires_at).where(
                    ROUTE_LEASE.c.holder.in_(names)
                )
            ).all()
    except sa.exc.OperationalError:  # the ledger's tables are not there yet
        rows = []
    now = datetime.now(UTC)
    held = Counter(holder for holder, expires in rows if expires is not None and expires > now)
    return held.most_common(1)[0][0] if held else names[0]


@contextmanager
def _fleet(config: Path, replicas: int, workdir: Path) -> Iterator[_Fleet]:
    fleet = _Fleet(config, replicas, workdir)
    try:
        yield fleet
    finally:
        for process in fleet.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def _wait_quiet(ledger: sa.Engine, fleet: _Fleet, deadline: float, *, after: int = 0) -> None:
    """Until every route has had two finished cycles in a row that wrote nothing (of those
    with an id above ``after``)."""
    while not _quiet(ledger, after):
        fleet.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError("the chaos run passed its deadline before the sides converged")
        time.sleep(0.2)  # polling a condition; nothing is timed on it


def _last_cycle(ledger: sa.Engine) -> int:
    with ledger.connect() as conn:
        return conn.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM cycle_run")).scalar_one()


def _quiet(ledger: sa.Engine, after: int = 0) -> bool:
    """Two write-free cycles of every route, and no work owed in the ledger."""
    with ledger.connect() as conn:
        routes = [r for (r,) in conn.execute(sa.text("SELECT DISTINCT route FROM cycle_run"))]
        if len(routes) < 2:
            return False
        for route in routes:
            rows = conn.execute(
                sa.text(
                    "SELECT ok, counts FROM cycle_run WHERE route = :route AND id > :after "
                    "AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 2"
                ),
                {"route": route, "after": after},
            ).all()
            if len(rows) < 2:
                return False
            for ok, counts in rows:
                written = {k: v for k, v in json.loads(counts).items() if k in WRITES and v}
                if not ok or written:
                    return False
        pending, unconfirmed = _unfinished(conn)
        # A record a person asked to fetch again (``bridge review``) is work owed too.
        retries = conn.execute(
            sa.select(sa.func.count())
            .select_from(QUARANTINE)
            .where(QUARANTINE.c.retry_requested_at.is_not(None))
        ).scalar_one()
        # A link marked owed has a change not carried over yet. (Routine re-polls that
        # are due, such as the first look at every new link, are not work owed.)
        owed = conn.execute(
            sa.select(sa.func.count())
            .select_from(ROUTE_LINK)
            .where(ROUTE_LINK.c.next_poll_at <= OWED)
        ).scalar_one()
    return not (unconfirmed or pending or owed or retries)


def _unfinished(conn: sa.Connection) -> tuple[int, int]:
    """Creates still pending, and follow-up copies not done: work begun and not finished."""
    pending = conn.execute(
        sa.select(sa.func.count())
        .select_from(PENDING_OP)
        .where(PENDING_OP.c.state == PENDING_STARTED)
    ).scalar_one()
    copies = conn.execute(
        sa.select(sa.func.count())
        .select_from(FOLLOWUP_COPY)
        .where(FOLLOWUP_COPY.c.state != COPY_DONE)
    ).scalar_one()
    return int(pending), int(copies)


# -- the count -----------------------------------------------------------------------------------
def _count(
    result: ChaosResult,
    hub_state: LaporState,
    door_state: SidumasState,
    typed: _Typed,
    ledger: sa.Engine,
    *,
    joins: bool = False,
) -> None:
    hub_by_ref = complaints_by_ref(hub_state.complaints.values())
    # With the duplicate check on, an original may rightly be joined to the other door's
    # record of the same text instead of copied: one complaint, two records, no copy.
    joined = _joined(ledger) if joins else {}
    hub_ids = hub_originals_ids(hub_state)
    door_ids = {str(r["id"]) for r in door_state.records if not r.get("ref_eksternal")}
    door_by_ref = Counter(str(r.get("ref_eksternal") or "") for r in door_state.records)
    door_originals = [r for r in door_state.records if not r.get("ref_eksternal")]
    hub_originals = [c for c in hub_state.complaints.values() if "#lb" not in str(c["tags_raw"])]

    expected_in_hub = [r for r in door_originals if not r.get("hide_pengaduan")]
    result.door_expected = len(expected_in_hub)
    for record in expected_in_hub:
        ref = make_ref("sidumas", str(record["id"]))
        copies = len(hub_by_ref.get(ref, []))
        if copies == 0 and joined.get(("sidumas", str(record["id"]))) in hub_ids:
            result.joined_as_duplicates += 1
            continue
        _once(result, f"SIDUMAS {record['id']} in LAPOR!", copies)
    for record in door_originals:
        ref = make_ref("sidumas", str(record["id"]))
        if record.get("hide_pengaduan") and ref in hub_by_ref:
            result.duplicates.append(f"confidential SIDUMAS {record['id']} reached LAPOR!")

    expected_in_door = [c for c in hub_originals if not c.get("is_secret")]
    result.hub_expected = len(expected_in_door)
    for complaint in expected_in_door:
        ref = make_ref("lapor", str(complaint["id"]))
        copies = door_by_ref.get(ref, 0)
        if copies == 0 and joined.get(("lapor", str(complaint["id"]))) in door_ids:
            result.joined_as_duplicates += 1
            continue
        _once(result, f"LAPOR! {complaint['id']} in SIDUMAS", copies)

    _count_followups(result, hub_state, door_state, hub_by_ref, typed)
    _count_statuses(result, hub_state, door_state, hub_by_ref, typed)
    _count_ledger(result, hub_state, door_state, ledger)


def hub_originals_ids(hub_state: LaporState) -> set[str]:
    """The tracking ids of the complaints filed in LAPOR! itself (not the bridge's copies)."""
    return {str(c["id"]) for c in hub_state.complaints.values() if "#lb" not in str(c["tags_raw"])}


def _joined(ledger: sa.Engine) -> dict[tuple[str, str], str]:
    """(system, record id) → the other system's record id, for complaints holding one of each
    where the duplicate check linked them (``duplicate.linked``)."""
    query = sa.text(
        "SELECT l.complaint_id, l.system, l.remote_id FROM link l WHERE l.complaint_id IN "
        "(SELECT complaint_id FROM event WHERE kind = 'duplicate.linked')"
    )
    with ledger.connect() as conn:
        rows = conn.execute(query).all()
    by_complaint: dict[int, dict[str, str]] = {}
    for complaint_id, system, remote_id in rows:
        by_complaint.setdefault(complaint_id, {})[system] = str(remote_id)
    joined: dict[tuple[str, str], str] = {}
    for records in by_complaint.values():
        if {"lapor", "sidumas"} <= records.keys():
            joined[("sidumas", records["sidumas"])] = records["lapor"]
            joined[("lapor", records["lapor"])] = records["sidumas"]
    return joined


def _once(result: ChaosResult, what: str, copies: int) -> None:
    if copies == 0:
        result.lost.append(f"{what}: missing")
    elif copies > 1:
        result.duplicates.append(f"{what}: {copies} copies")


def _count_followups(
    result: ChaosResult,
    hub_state: LaporState,
    door_state: SidumasState,
    hub_by_ref: dict[str, list[dict[str, Any]]],
    typed: _Typed,
) -> None:
    for door_id, text in typed.in_door:
        copies = hub_by_ref.get(make_ref("sidumas", door_id), [])
        if len(copies) != 1:
            continue  # counted already: lost, doubled, or joined to a twin (no copy to read)
        [copy] = copies
        there = [f["content"] for f in copy["followups"]].count(text)
        here = [t["tanggapan"] for t in door_state.find(door_id)["tanggapans"]].count(text)
        if (there, here) != (1, 1):
            result.followup_problems.append(
                f"SIDUMAS {door_id} answer {text!r}: {here} in SIDUMAS, {there} in LAPOR!"
            )
    door_of_hub = {
        int(copies[0]["id"]): door_id
        for door_id in {d for d, _ in typed.in_door} | typed.hub_touched
        for copies in [hub_by_ref[make_ref("sidumas", door_id)]]
    }
    for tracking_id, text in typed.in_hub:
        door_id = door_of_hub[tracking_id]
        here = [f["content"] for f in hub_state.get(tracking_id)["followups"]].count(text)
        there = [t["tanggapan"] for t in door_state.find(door_id)["tanggapans"]].count(text)
        if (there, here) != (1, 1):
            result.followup_problems.append(
                f"LAPOR! {tracking_id} note {text!r}: {here} in LAPOR!, {there} in SIDUMAS"
            )


def _count_statuses(
    result: ChaosResult,
    hub_state: LaporState,
    door_state: SidumasState,
    hub_by_ref: dict[str, list[dict[str, Any]]],
    typed: _Typed,
) -> None:
    """LAPOR!'s verification (a status LAPOR! owns) reached SIDUMAS, which showed "new"."""
    door_mapping = load_mapping(MAPPINGS / "sidumas.toml")
    hub_mapping = load_mapping(MAPPINGS / "lapor.toml")
    for door_id in sorted(typed.verified):
        record = door_state.find(door_id)
        [copy] = hub_by_ref[make_ref("sidumas", door_id)]
        code = copy["status_code"]
        in_door = door_mapping.to_canonical_status(
            str(record["status"]), STATUS_LABELS.get(record["status"])
        )
        in_hub = hub_mapping.to_canonical_status(str(code), LAPOR_STATUSES.get(code))
        if in_door != in_hub:
            result.status_problems.append(
                f"LAPOR! {copy['id']} is {in_hub} but its SIDUMAS original {door_id} is {in_door}"
            )


def _count_ledger(
    result: ChaosResult, hub_state: LaporState, door_state: SidumasState, ledger: sa.Engine
) -> None:
    """Every link points at a record that exists; no complaint has two records in one system."""
    existing = {
        "lapor": {str(i) for i in hub_state.complaints},
        "sidumas": {str(r["id"]) for r in door_state.records},
    }
    with ledger.connect() as conn:
        links = conn.execute(sa.text("SELECT complaint_id, system, remote_id FROM link")).all()
        pending, unconfirmed = _unfinished(conn)
    per_system = Counter((complaint_id, system) for complaint_id, system, _ in links)
    for (complaint_id, system), n in per_system.items():
        if n > 1:
            result.ledger_problems.append(f"complaint {complaint_id} has {n} links in {system}")
    for complaint_id, system, remote_id in links:
        if remote_id not in existing.get(system, set()):
            result.ledger_problems.append(
                f"complaint {complaint_id}: {system} {remote_id} is linked but does not exist"
            )
    if pending:
        result.ledger_problems.append(f"{pending} create(s) still pending after convergence")
    if unconfirmed:
        result.ledger_problems.append(f"{unconfirmed} follow-up copies not done after convergence")
    linked = Counter(system for _, system, _ in links)
    wanted = result.door_expected + result.hub_expected
    for system in ("lapor", "sidumas"):
        if linked[system] < wanted:
            result.ledger_problems.append(
                f"the ledger links {linked[system]} {system} records; {wanted} expected"
            )


# -- by hand -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--complaints", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument(
        "--ledger",
        help="Ledger URL (default: SQLite in --workdir); 'pg' makes a fresh PostgreSQL "
        "database on the local server (127.0.0.1:5432, database `test` reachable).",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--followups-per-round", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=1200, help="Give up after (s).")
    parser.add_argument("--workdir", type=Path, default=Path(".chaos"))
    parser.add_argument("--json", type=Path, help="Also write the summary to this file.")
    parser.add_argument(
        "--duplicates", action="store_true", help="Turn [routes.duplicates] on in every route."
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    settings = ChaosSettings(
        complaints=args.complaints,
        kills=args.kills,
        replicas=args.replicas,
        ledger_url=_fresh_pg() if args.ledger == "pg" else args.ledger,
        seed=args.seed,
        followups_per_round=args.followups_per_round,
        deadline_seconds=args.deadline,
        duplicates=args.duplicates,
    )
    result = run_chaos(settings, args.workdir.resolve())
    summary = json.dumps(result.summary(), indent=2)
    print(summary)
    if args.json:
        args.json.write_text(summary + "\n", encoding="utf-8")
    return 0 if result.ok else 1


def _fresh_pg(name: str = "lapor_bridge_chaos") -> str:
    """An empty PostgreSQL database for the run (dropped first if an earlier run left it)."""
    from psycopg import sql

    from tests.pg import PG_HOST, PG_PORT, pg_admin

    admin = pg_admin()
    if admin is None:
        raise SystemExit(f"PostgreSQL at {PG_HOST}:{PG_PORT} (database `test`) is unreachable")
    conn, user = admin
    with conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{name}"


if __name__ == "__main__":
    raise SystemExit(main())
