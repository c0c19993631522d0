"""The daemon: one APScheduler job per route, and a shutdown that lets a cycle finish.

APScheduler 3.x with ``max_instances=1`` (a route never runs twice at once in one
process), ``coalesce=True`` (missed runs collapse into one, no burst after a pause)
and jitter (many bridges against one hub do not poll in step). SIGTERM and SIGINT
stop new cycles from starting, wait for the running ones, then return 0. They also set
``bridge.shutdown``'s flag, so a request a slow server keeps hanging is abandoned at its
next chunk (``ShuttingDown``) and the running cycle ends at its next safe point.

Several replicas may share one ledger: each cycle runs fenced by its route's lease
(``bridge.daemon.leases``); a route held by another replica is skipped. Leases are kept
between cycles by a heartbeat (every third of the TTL) and released at a graceful shutdown.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from bridge import shutdown
from bridge.daemon.leases import DEFAULT_LEASE_TTL, RouteLeases, replica_name
from bridge.ledger import LedgerUnavailable
from bridge.log import failure_reason
from bridge.sync import CycleReport, Route

log = structlog.get_logger("bridge.scheduler")


def run_daemon(
    routes: list[Route],
    intervals: dict[str, tuple[float, float]],
    *,
    stop: threading.Event | None = None,
    on_cycle: Callable[[CycleReport], None] | None = None,
    replica: str | None = None,
    lease_ttl: timedelta = DEFAULT_LEASE_TTL,
    running: threading.Event | None = None,
    daily: Callable[[], None] | None = None,
) -> int:
    """Run every route on its interval until SIGTERM/SIGINT (or ``stop`` is set).

    ``intervals`` maps a route name to ``(interval_seconds, jitter_seconds)``;
    ``on_cycle`` hears every finished cycle (tests wait on it instead of sleeping).
    Each cycle runs under its route's lease, held as ``replica`` for ``lease_ttl``.
    ``running`` is set while the scheduler runs (``/readyz`` reads it).
    ``daily`` (the retention purge) runs at start and then once a day.
    """
    stop = stop or threading.Event()
    shutdown.clear()  # a stop requested before this daemon started is not for it
    leases = RouteLeases(replica or replica_name(), lease_ttl)
    scheduler = BackgroundScheduler(timezone=UTC)
    for route in routes:
        interval, jitter = intervals[route.name]
        scheduler.add_job(
            _cycle_job(route, leases, on_cycle),
            "interval",
            seconds=interval,
            jitter=jitter,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id=route.name,
            name=route.name,
        )
    scheduler.add_job(
        leases.renew_idle,
        "interval",
        seconds=lease_ttl.total_seconds() / 3,
        max_instances=1,
        coalesce=True,
        id="lease-heartbeat",
        name="lease-heartbeat",
    )
    if daily is not None:
        scheduler.add_job(
            _guarded(daily, "daily"),
            "interval",
            days=1,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            id="daily",
            name="daily",
        )
    previous = _install_stop_handlers(stop)
    scheduler.start()
    if running is not None:
        running.set()
    log.info("daemon.started", routes=[r.name for r in routes], replica=leases.replica)
    try:
        # Wake once a second: a signal the kernel hands to another thread (a worker sending
        # creates) only marks Python's handler as due, and the handler runs when the main
        # thread next runs Python code. An untimed wait would never run it (seen under load:
        # SIGTERM caught, the daemon never stopping).
        while not stop.wait(timeout=1.0):
            pass
    finally:
        log.info("daemon.stopping")
        if running is not None:
            running.clear()
        # wait=True: a cycle that is running finishes and commits before we exit.
        scheduler.shutdown(wait=True)
        leases.release_all()
        _restore_handlers(previous)
        log.info("daemon.stopped")
    return 0


def _cycle_job(
    route: Route, leases: RouteLeases, on_cycle: Callable[[CycleReport], None] | None
) -> Callable[[], None]:
    def job() -> None:
        try:
            report = leases.run(route)
        except LedgerUnavailable as exc:  # the ledger is down: the next cycle tries again
            log.warning("route.cycle.skipped", route=route.name, error=str(exc))
            return
        except Exception as exc:  # one route's failure must not stop the daemon
            # run_cycle records its own failures; this is one outside it (claiming the lease,
            # closing the cycle row). One line; the traceback only at log level debug.
            log.warning("route.cycle.failed", route=route.name, error=failure_reason(exc))
            log.debug("route.cycle.traceback", route=route.name, exc_info=exc)
            return
        if report is not None and on_cycle is not None:
            on_cycle(report)

    return job


def _guarded(job: Callable[[], None], name: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - housekeeping never stops the daemon
            log.warning("daemon.job.failed", job=name, error=failure_reason(exc))

    return run


_Handler = Callable[[int, FrameType | None], object] | int | None


def _install_stop_handlers(stop: threading.Event) -> dict[int, _Handler]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # signals can only be handled on the main thread (tests run elsewhere)

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("daemon.signal", signal=signal.Signals(signum).name)
        shutdown.request_stop()  # requests in flight give up now, not at their timeout
        stop.set()

    previous: dict[int, _Handler] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handle)
    return previous


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
