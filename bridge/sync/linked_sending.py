"""Linked complaints' reads and writes, up to the target's ``max_concurrency`` complaints at once.

One task per complaint runs the whole of its linked sync (detail, status, follow-ups) in
its usual order, so the follow-ups of one complaint still leave one after another; tasks
of different complaints overlap, on the creates' machinery (``bridge.sync.inflight``).
Every ledger call, and every call to a connector not made for threads, is handed to the
engine's thread (``bridge.sync.desk``), which serves them while it waits: the lease fence
(``check_fence`` before each write) and the ledger's order of commits are unchanged.

A complaint's outcome is settled on the engine's thread as it ends: a refused write (a
``RecordError``) is flagged for review and the others go on; a transient failure (a 429,
a 5xx, the bridge stopping) or anything unexpected stops the batch: nothing more starts,
the complaints in flight end (what they delivered is kept), then the first error is
raised, as when the complaints went one at a time. The client's rate limiter spaces every
request and spreads a 429's pause to every thread of the connector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import structlog

from bridge.errors import RecordError, RetryableError
from bridge.sync.desk import Desk
from bridge.sync.inflight import InFlight, Outcome
from bridge.sync.report import CycleReport
from bridge.sync.route import Route

if TYPE_CHECKING:
    from bridge.sync.updates import LinkedItem

log = structlog.get_logger("bridge.linked")

Work = Callable[[Route, "LinkedItem", CycleReport], None]
"""One complaint's linked sync: (the route as its thread may use it, the item, its report)."""
Refused = Callable[[Route, "LinkedItem", RecordError, CycleReport], None]
"""What a refused write comes to (on the engine's thread): flagged for review."""


def send_linked(
    route: Route,
    items: Sequence[LinkedItem],
    work: Work,
    report: CycleReport,
    *,
    failed: set[str],
    refused: Refused,
) -> None:
    """``work`` for every item, some at once; refs that failed go into ``failed``.

    Raises the first error that stops the batch, once every complaint started has ended.
    """
    batch = _Batch(route, work, report, failed, refused)
    try:
        batch.run(items)
    except BaseException:
        batch.drain()
        raise
    finally:
        batch.flight.close()


Tag = tuple["LinkedItem", CycleReport]
"""A complaint in flight, and the report its task counts into (merged when it ends)."""


class _Batch:
    def __init__(
        self, route: Route, work: Work, report: CycleReport, failed: set[str], refused: Refused
    ) -> None:
        self.route, self.work, self.report = route, work, report
        self.failed, self.refused = failed, refused
        limit = _limit(route)
        self.desk = Desk()
        self.flight: InFlight[Tag, None] = InFlight(limit, "bridge-linked")
        self.on_workers = _on_workers(route, self.desk) if limit > 1 else route
        self.busy: set[tuple[str, str]] = set()
        self.stop: BaseException | None = None

    def run(self, items: Sequence[LinkedItem]) -> None:
        for item in items:
            while self.stop is None and (self.flight.full() or self._busy(item)):
                self._step()
            if self.stop is not None:
                break
            self._start(item)
            self._take_ready()
        while self.flight:
            self._step()
        if self.stop is not None:
            raise self.stop

    def drain(self) -> None:
        """The batch stops: wait for the complaints in flight, keeping what they did."""
        while self.flight:
            try:
                self._step()
            except Exception as exc:  # noqa: BLE001 - the batch already stops for the first
                log.warning("linked.unsettled", route=self.route.name, error=type(exc).__name__)

    def _busy(self, item: LinkedItem) -> bool:
        """True while a task of the same complaint (on either side) is in flight."""
        return bool(_keys(item) & self.busy)

    def _start(self, item: LinkedItem) -> None:
        own = CycleReport(self.report.route, dry_run=False, keep_lines=self.report.keep_lines)
        self.busy |= _keys(item)
        outcome = self.flight.start((item, own), partial(self.work, self.on_workers, item, own))
        if isinstance(outcome, Future):
            # Called once the future is done: the engine's thread, waiting at the desk, wakes.
            outcome.add_done_callback(lambda _: self.desk.wake())

    def _step(self) -> None:
        """Wait for one event (a handed call, made here; a task ending), then settle."""
        if not self.flight.ready():
            self.desk.serve()
        self._take_ready()

    def _take_ready(self) -> None:
        while self.flight.ready():
            (item, own), outcome = self.flight.take()
            self._settle(item, own, outcome)

    def _settle(self, item: LinkedItem, own: CycleReport, outcome: Outcome[None]) -> None:
        self.busy -= _keys(item)
        self.report.counts.update(own.counts)
        self.report.lines.extend(own.lines)
        try:
            outcome.result()
        except RecordError as exc:
            self.failed.add(item.ref)
            self.refused(self.route, item, exc, self.report)
        except RetryableError as exc:
            self.failed.add(item.ref)
            self._stop(exc)
        except BaseException as exc:  # noqa: BLE001 - raised by run() once the rest ended
            self._stop(exc)

    def _stop(self, error: BaseException) -> None:
        if self.stop is None:
            self.stop = error


def _limit(route: Route) -> int:
    """Complaints in flight: the target's ``max_concurrency``, and no more than the source's
    when the workers call the source too (one not made for threads is called on the
    engine's thread, one call at a time, whatever the number of workers)."""
    target, source = route.target.max_concurrency, route.source.max_concurrency
    return target if source <= 1 else min(target, source)


def _keys(item: LinkedItem) -> set[tuple[str, str]]:
    return {("ref", item.ref), ("target", item.target_id)}


def _on_workers(route: Route, desk: Desk) -> Route:
    """``route`` as a worker uses it: its ledger, and a source not made for threads, via ``desk``.

    The target is made for threads: ``max_concurrency`` above 1 says so.
    """
    source = route.source if route.source.max_concurrency > 1 else desk.on_engine(route.source)
    worker = replace(route, source=source)
    # ``memory`` is a cached property of the frozen route: the worker's goes through the desk.
    object.__setattr__(worker, "memory", desk.on_engine(route.memory))
    return worker
