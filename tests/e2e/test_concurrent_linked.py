"""Follow-ups of linked complaints sent concurrently over real HTTP: overlapped, in order, bounded.

SIDUMAS → LAPOR! with ``max_concurrency = 4`` on both connectors. The route first brings
the door's complaints over; officers then type three answers on each of eight complaints,
and the next cycle carries them. LAPOR!'s connector is watched: the first writes of two
complaints wait for each other at a barrier (a bridge carrying one complaint at a time
never brings the second, the wait breaks), one complaint never has two calls in flight,
and no more than ``max_concurrency`` calls are ever in flight.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

from bridge.errors import RateLimited
from bridge.model import make_ref
from bridge.sync import CycleReport, Route, run_cycle
from tests.simulated import Sims, hub_by_ref, one_route

pytestmark = pytest.mark.e2e

CONCURRENCY = 4
ANSWERS = 3
COMPLAINTS = 8
BARRIER_SECONDS = 60  # only a bridge carrying one complaint at a time ever waits this long
TARGET_CALLS = ("add_followup", "followups", "set_status", "get", "forward")


@dataclass
class Watch:
    """LAPOR!'s connector as the workers call it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    first_two: threading.Barrier = field(
        default_factory=lambda: threading.Barrier(2, timeout=BARRIER_SECONDS)
    )
    waited: set[str] = field(default_factory=set)
    in_flight: int = 0
    most_in_flight: int = 0
    busy: set[str] = field(default_factory=set)
    same_complaint_at_once: int = 0
    written: list[str] = field(default_factory=list)

    def wrap(self, name: str, call: Callable[..., Any], first_write: Callable[[str], None]) -> Any:
        def watched(record_id: str, *args: Any) -> Any:
            with self.lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
                self.same_complaint_at_once += record_id in self.busy
                self.busy.add(record_id)
            try:
                if name == "add_followup":
                    first_write(record_id)
                answer = call(record_id, *args)
                if name == "add_followup":
                    with self.lock:
                        self.written.append(record_id)
                return answer
            finally:
                with self.lock:
                    self.in_flight -= 1
                    self.busy.discard(record_id)

        return watched

    def barrier_for_two(self, record_id: str) -> None:
        """The first write of each of the first two complaints waits for the other."""
        with self.lock:
            wait = record_id not in self.waited and len(self.waited) < 2
            self.waited.add(record_id)
        if wait:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.first_two.wait()


def _concurrent(sims: Sims) -> None:
    text = sims.config_path.read_text(encoding="utf-8")
    for kind in ('type = "lapor"\n', 'type = "rest"\n'):
        text = text.replace(kind, f"{kind}max_concurrency = {CONCURRENCY}\n")
    sims.config_path.write_text(text, encoding="utf-8")


def _answered(sims: Sims) -> dict[str, list[str]]:
    """Officers answer eight linked, open, named complaints three times each: door id → texts."""
    by_ref = hub_by_ref(sims.hub_state.complaints.values())
    answered: dict[str, list[str]] = {}
    for record in sims.door_state.records:
        door_id = str(record["id"])
        if record.get("hide_identitas") or make_ref("sidumas", door_id) not in by_ref:
            continue
        texts = [f"Jawaban {n} petugas untuk aduan nomor {door_id}." for n in (1, 2, 3)]
        for text in texts[:ANSWERS]:
            sims.door_state.add_tanggapan(record["id"], {"tanggapan": text, "nama": "PUPR"})
        answered[door_id] = texts[:ANSWERS]
        if len(answered) == COMPLAINTS:
            break
    assert len(answered) == COMPLAINTS, "the seed should hold eight named linked complaints"
    return answered


def _hub_texts(sims: Sims, door_id: str) -> list[str]:
    """The answers LAPOR! holds for a door complaint, in the order they arrived."""
    [hub] = hub_by_ref(sims.hub_state.complaints.values())[make_ref("sidumas", door_id)]
    return [
        text
        for followup in hub["followups"]
        for text in [f"Jawaban {n} petugas untuk aduan nomor {door_id}." for n in (1, 2, 3)]
        if text in str(followup["content"])
    ]


def _watched(route: Route, watch: Watch, first_write: Callable[[str], None]) -> None:
    for name in TARGET_CALLS:
        call = getattr(route.target, name)
        setattr(route.target, name, watch.wrap(name, call, first_write))


def test_follow_ups_of_different_complaints_overlap_and_each_complaints_keep_their_order(
    sims: Sims,
) -> None:
    """8 complaints, 3 answers each, 4 at once: complaints overlap, each one's answers in order."""
    _concurrent(sims)
    with one_route(sims, "sidumas-to-lapor") as route:
        assert run_cycle(route).ok
        answered = _answered(sims)
        watch = Watch()
        _watched(route, watch, watch.barrier_for_two)
        report = run_cycle(route)

    assert report.ok, report.error
    assert report.counts["followup"] == COMPLAINTS * ANSWERS
    assert not watch.first_two.broken, "two complaints' writes never overlapped"
    assert 1 < watch.most_in_flight <= CONCURRENCY
    assert watch.same_complaint_at_once == 0
    for door_id, texts in answered.items():
        assert _hub_texts(sims, door_id) == texts


def test_a_429_mid_batch_keeps_what_was_in_flight_and_loses_nothing(sims: Sims) -> None:
    """A 429 on one complaint while two others are in flight: theirs are kept, the rest follow."""
    _concurrent(sims)
    with one_route(sims, "sidumas-to-lapor") as route:
        assert run_cycle(route).ok
        answered = _answered(sims)
        watch = Watch()
        limited = threading.Event()

        def first_write(record_id: str) -> None:
            """Two complaints are in flight (at the barrier) when a third gets a 429."""
            with watch.lock:
                new = record_id not in watch.waited
                watch.waited.add(record_id)
                third = new and len(watch.waited) == 3
            if third:
                limited.set()
                raise RateLimited("lapor: HTTP 429", retry_after=0)
            if new and len(watch.waited) <= 2:
                assert limited.wait(BARRIER_SECONDS), "no third complaint came while in flight"

        _watched(route, watch, first_write)
        stopped = run_cycle(route)
        assert not stopped.ok and "429" in (stopped.error or "")
        # Both complaints in flight when the 429 came finished their three answers.
        done = [d for d, texts in answered.items() if _hub_texts(sims, d) == texts]
        assert len(done) >= 2 and len(set(watch.written)) >= 2
        assert len(done) < COMPLAINTS, "the 429 stopped nothing: nothing was proved"
        for door_id, texts in answered.items():
            got = _hub_texts(sims, door_id)
            assert got == texts[: len(got)]  # in order, never doubled
        # The one refused is tried again after linked_retry; later cycles carry every answer.
        later = replace(route, clock=lambda: route.clock() + timedelta(hours=1))
        for _ in range(2):
            again: CycleReport = run_cycle(later)
            assert again.ok, again.error

    for door_id, texts in answered.items():
        assert _hub_texts(sims, door_id) == texts
