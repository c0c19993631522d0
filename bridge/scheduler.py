"""The daemon: one APScheduler job per route, and a shutdown that lets a cycle finish.

APScheduler 3.x with ``max_instances=1`` (a route never runs twice at once in one
process), ``coalesce=True`` (missed runs collapse into one, no burst after a pause)
and jitter (many bridges against one hub do not poll in step). SIGTERM and SIGINT
stop new cycles from starting, wait for the running ones, then return 0. They also set
``bridge.shutdown``'s flag, so a request a slow server keeps hanging is abandoned at its
next chunk (``ShuttingDown``) and the running cycle ends at its next safe point.

Several replicas may share one ledger: each cycle first claims its route's lease
(``bridge.ledger.leases``) and runs fenced by it; a route held by another replica is
skipped with one ``route.lease.held_elsewhere`` line. Leases are kept between cycles
by a heartbeat (every third of the TTL) and released at a graceful shutdown.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from bridge import shutdown
from bridge.errors import BridgeError, ConfigError
from bridge.ledger import Lease, LeaseLost, LedgerUnavailable
from bridge.log import failure_reason
from bridge.replica import ReplicaIdentity
from bridge.sync import CycleOptions, CycleReport, Route, run_cycle

log = structlog.get_logger("bridge.scheduler")

DEFAULT_LEASE_TTL = timedelta(seconds=120)
MAX_REPLICA_NAME = 200  # route_lease.holder is VARCHAR(200)


def replica_name() -> str:
    """This process's default display name as a lease holder: ``<hostname>:<pid>``.

    Only for people: hosts may share a hostname and pids repeat across PID namespaces,
    so what proves who holds a lease is its ``ReplicaIdentity`` (``bridge.replica``).
    """
    return f"{socket.gethostname()}:{os.getpid()}"


def run_daemon(
    routes: list[Route],
    intervals: dict[str, tuple[float, float]],
    *,
    stop: threading.Event | None = None,
    on_cycle: Callable[[CycleReport], None] | None = None,
    replica: str | None = None,
    lease_ttl: timedelta = DEFAULT_LEASE_TTL,
) -> int:
    """Run every route on its interval until SIGTERM/SIGINT (or ``stop`` is set).

    ``intervals`` maps a route name to ``(interval_seconds, jitter_seconds)``;
    ``on_cycle`` hears every finished cycle (tests wait on it instead of sleeping).
    Each cycle runs under its route's lease, held as ``replica`` for ``lease_ttl``.
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
    previous = _install_stop_handlers(stop)
    scheduler.start()
    log.info("daemon.started", routes=[r.name for r in routes], replica=leases.replica)
    try:
        stop.wait()
    finally:
        log.info("daemon.stopping")
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


class RouteLeases:
    """The route leases one replica holds: claimed per cycle, renewed while idle, released at exit.

    A running cycle keeps its own lease alive: its fenced ledger writes renew it
    (``bridge.ledger.leases``). The heartbeat (``renew_idle``) only renews routes
    between cycles, so a cycle stuck for longer than the TTL loses its route to a
    replica that is making progress.
    """

    def __init__(
        self, replica: str, ttl: timedelta, identity: ReplicaIdentity | None = None
    ) -> None:
        """``identity`` defaults to this process's (``ReplicaIdentity.of_this_process``)."""
        if not 0 < len(replica) <= MAX_REPLICA_NAME:
            raise ConfigError(
                [
                    f"replica name {replica!r} must be 1 to {MAX_REPLICA_NAME} characters; "
                    "give --replica a short name that tells people which bridge this is"
                ]
            )
        self.replica = replica
        self.ttl = ttl
        self.identity = identity or ReplicaIdentity.of_this_process()
        self._held: dict[str, tuple[Route, Lease]] = {}
        self._running: set[str] = set()
        # Claims and heartbeat renewals of this replica never race each other: on
        # PostgreSQL a claim skips a row that another transaction holds.
        self._lock = threading.Lock()

    def run(self, route: Route, options: CycleOptions | None = None) -> CycleReport | None:
        """One cycle of ``route`` fenced by its lease; None if another replica holds it.

        ``LedgerUnavailable`` when the lease cannot be claimed (the ledger is down).
        """
        lease = self._claim(route)
        if lease is None:
            return None
        options = options or CycleOptions()
        try:
            with route.ledger.leases.fenced(lease, self.ttl):
                return run_cycle(route, options=options)
        finally:
            with self._lock:
                self._running.discard(route.name)

    def renew_idle(self) -> None:
        """Keep the leases of the routes waiting for their next cycle."""
        with self._lock:
            for name, (route, lease) in list(self._held.items()):
                if name in self._running:
                    continue
                try:
                    self._held[name] = (route, route.ledger.leases.renew(lease, self.ttl))
                except LeaseLost as exc:
                    del self._held[name]
                    log.warning(
                        "route.lease.lost", route=name, replica=self.replica, error=str(exc)
                    )
                except LedgerUnavailable as exc:  # kept: the next beat tries again
                    log.warning("route.lease.renew_failed", route=name, error=str(exc))

    def release_all(self) -> None:
        """Let every held route go now, so another replica need not wait for the TTL."""
        with self._lock:
            for name, (route, lease) in self._held.items():
                try:
                    route.ledger.leases.release(lease)
                except BridgeError as exc:
                    log.warning("route.lease.release_failed", route=name, error=str(exc))
                else:
                    log.info("route.lease.released", route=name, replica=self.replica)
            self._held.clear()

    def _claim(self, route: Route) -> Lease | None:
        with self._lock:
            previous = self._held.get(route.name)
            lease = route.ledger.leases.claim(
                route.name, self.replica, self.ttl, identity=self.identity
            )
            if lease is None:
                self._held.pop(route.name, None)
                self._log_held_elsewhere(route)
                return None
            self._held[route.name] = (route, lease)
            self._running.add(route.name)
        if previous is None or previous[1].run_number != lease.run_number:
            log.info(
                "route.lease.claimed",
                route=route.name,
                replica=self.replica,
                run_number=lease.run_number,
                expires_at=lease.expires_at.isoformat(),
            )
        return lease

    def _log_held_elsewhere(self, route: Route) -> None:
        info = route.ledger.leases.of(route.name)
        expires = info.expires_at if info is not None else None
        log.info(
            "route.lease.held_elsewhere",
            route=route.name,
            replica=self.replica,
            holder=info.holder if info is not None else None,
            expires_at=expires.isoformat() if expires is not None else None,
        )


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
