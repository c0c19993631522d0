"""Linked complaints carried concurrently: remote calls on workers, the ledger on the engine's.

The memory LAPOR! is given ``max_concurrency = 3`` (guarded by a lock here: the HTTP
connectors are made for threads, the memory one is not); the memory door keeps 1, so
every call to it, like every ledger call, must be made on the engine's thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from bridge.errors import RemoteRejected
from bridge.ledger import Ledger
from bridge.sync import Route, run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route

WAIT = 30  # seconds a worker waits for its cue before the test gives up (never reached)
COMPLAINTS = 6
ANSWERS = 2


class Threads:
    """Which threads made which calls."""

    def __init__(self) -> None:
        self.engine = threading.get_ident()
        self.lock = threading.Lock()
        self.calls: dict[str, set[int]] = {}
        self.met = threading.Barrier(2, timeout=WAIT)
        self.waited: set[str] = set()

    def watch(self, owner: Any, name: str, label: str, guard: bool = False) -> None:
        call: Callable[..., Any] = getattr(owner, name)

        def watched(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.calls.setdefault(label, set()).add(threading.get_ident())
            if label == "hub.add_followup":
                self._meet(str(args[0]))
            if not guard:
                return call(*args, **kwargs)
            with self.lock:
                return call(*args, **kwargs)

        setattr(owner, name, watched)

    def _meet(self, record_id: str) -> None:
        """The first answers of two complaints wait for each other: they must overlap."""
        with self.lock:
            first = record_id not in self.waited and len(self.waited) < 2
            self.waited.add(record_id)
        if first:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.met.wait()

    def off_engine(self, label: str) -> bool:
        return any(ident != self.engine for ident in self.calls.get(label, ()))


def _answered(ledger: Ledger) -> Route:
    """Six linked complaints, two answers typed on each; then LAPOR! takes 3 at once."""
    route = make_route(ledger)
    door = door_of(route)
    for i in range(1, COMPLAINTS + 1):
        door.put(door_record(i))
    assert run_cycle(route).ok
    for record in door.records():
        for n in range(1, ANSWERS + 1):
            answer = {"tanggapan": f"Jawaban {n} untuk {record['id']}", "nama": "Petugas PUPR"}
            door.post_followup(record["id"], {**answer, "created_at": "2026-03-02 09:00:00"})
    hub_of(route).max_concurrency = 3
    return route


def test_remote_calls_overlap_on_workers_while_the_ledger_and_the_door_stay_on_the_engine(
    ledger: Ledger,
) -> None:
    """Answers of two complaints overlap on workers; ledger and door calls stay on the engine."""
    route = _answered(ledger)
    hub = hub_of(route)
    threads = Threads()
    for name in ("followups", "add_followup", "set_status", "get"):
        threads.watch(hub, name, f"hub.{name}", guard=True)
    for name in ("followups", "get", "download"):
        threads.watch(door_of(route), name, f"door.{name}")
    memory = route.memory
    for name in [n for n in dir(memory) if not n.startswith("_")]:
        if callable(getattr(memory, name)):
            threads.watch(memory, name, f"ledger.{name}")

    report = run_cycle(route)

    assert report.ok, report.error
    assert report.counts["followup"] == COMPLAINTS * ANSWERS
    assert not threads.met.broken, "two complaints' answers never overlapped"
    assert threads.off_engine("hub.add_followup")
    on_engine_only = [label for label in threads.calls if not label.startswith("hub.")]
    assert "door.followups" in on_engine_only and "ledger.note_followups" in on_engine_only
    assert [label for label in on_engine_only if threads.off_engine(label)] == []
    for record in hub.records():
        texts = [f.get("content", "") for f in hub.followups(record["id"])]
        mine = [t for t in texts if "Jawaban" in t]
        assert len(mine) == ANSWERS and mine == sorted(mine)


def test_a_refused_answer_is_flagged_while_the_other_complaints_go_through(
    ledger: Ledger,
) -> None:
    """One complaint's answer refused (a 422) under concurrency: flagged, the others all copied."""
    route = _answered(ledger)
    hub = hub_of(route)
    refused_id = hub.records()[0]["id"]
    add_followup, lock = hub.add_followup, threading.RLock()

    def add(record_id: str, *args: Any) -> str | None:
        if record_id == refused_id:
            raise RemoteRejected("HTTP 422: content rejected", status_code=422)
        with lock:
            return add_followup(record_id, *args)

    hub.add_followup = add  # type: ignore[method-assign]
    hub.followups = _locked(hub.followups, lock)  # type: ignore[method-assign]

    report = run_cycle(route)

    assert report.ok, report.error
    assert report.counts["followup"] == (COMPLAINTS - 1) * ANSWERS
    assert report.counts["followup_failed"] >= 1
    flagged = [r for r in ledger.reviews.listed(route.name) if r.kind == "write"]
    assert [r.ref for r in flagged] == [route.memory.links_for_target([refused_id])[refused_id].ref]


def _locked(call: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    def locked(*args: Any) -> Any:
        with lock:
            return call(*args)

    return locked
