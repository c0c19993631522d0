"""The daemon: one APScheduler job per route, and a shutdown that lets a cycle finish.

APScheduler 3.x with ``max_instances=1`` (a route never runs twice at once in one
process), ``coalesce=True`` (missed runs collapse into one, no burst after a pause)
and jitter (many bridges against one hub do not poll in step). SIGTERM and SIGINT
stop new cycles from starting, wait for the running ones, then return 0.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from bridge.engine import CycleReport, Route, run_cycle

log = structlog.get_logger("bridge.scheduler")


def run_daemon(
    routes: list[Route],
    intervals: dict[str, tuple[float, float]],
    *,
    stop: threading.Event | None = None,
    on_cycle: Callable[[CycleReport], None] | None = None,
) -> int:
    """Run every route on its interval until SIGTERM/SIGINT (or ``stop`` is set).

    ``intervals`` maps a route name to ``(interval_seconds, jitter_seconds)``;
    ``on_cycle`` hears every finished cycle (tests wait on it instead of sleeping).
    """
    stop = stop or threading.Event()
    scheduler = BackgroundScheduler(timezone=UTC)
    for route in routes:
        interval, jitter = intervals[route.name]
        scheduler.add_job(
            _cycle_job(route, on_cycle),
            "interval",
            seconds=interval,
            jitter=jitter,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id=route.name,
            name=route.name,
        )
    previous = _install_stop_handlers(stop)
    scheduler.start()
    log.info("daemon.started", routes=[r.name for r in routes])
    try:
        stop.wait()
    finally:
        log.info("daemon.stopping")
        # wait=True: a cycle that is running finishes and commits before we exit.
        scheduler.shutdown(wait=True)
        _restore_handlers(previous)
        log.info("daemon.stopped")
    return 0


def _cycle_job(route: Route, on_cycle: Callable[[CycleReport], None] | None) -> Callable[[], None]:
    def job() -> None:
        try:
            report = run_cycle(route)
        except Exception:  # one route's bug must not kill the daemon: log it, go on
            log.exception("route.cycle.crashed", route=route.name)
            return
        if on_cycle is not None:
            on_cycle(report)

    return job


_Handler = Callable[[int, FrameType | None], object] | int | None


def _install_stop_handlers(stop: threading.Event) -> dict[int, _Handler]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals can only be handled on the main thread (tests run elsewhere)

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("daemon.signal", signal=signal.Signals(signum).name)
        stop.set()

    previous: dict[int, _Handler] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handle)
    return previous


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
