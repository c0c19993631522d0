"""The route leases one replica holds, and the name it holds them under.

Several replicas may share one ledger: each cycle first claims its route's lease
(``bridge.ledger.leases``) and runs fenced by it; a route held by another replica is
skipped with one ``route.lease.held_elsewhere`` line. ``RouteLeases`` keeps this
replica's leases between cycles (the daemon's heartbeat calls ``renew_idle``) and lets
them go at a graceful shutdown. ``bridge sync`` and ``bridge backfill`` use it too, for
their one cycle per route.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta

import structlog

from bridge.errors import BridgeError, ConfigError
from bridge.ledger import Lease, LeaseLost, LedgerUnavailable
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
