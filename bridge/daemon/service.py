"""The daemon's HTTP side assembled: snapshot keeper, readiness, metrics, server.

``StatusService`` starts with the daemon when ``[daemon] http`` is set and stops with
it; ``on_cycle`` is what the scheduler calls after every cycle (counters, and a new
snapshot soon after).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from bridge.config import BridgeConfig
from bridge.daemon.endpoints import HttpServer, StatusApp
from bridge.daemon.prom import HttpCounters, build_registry
from bridge.daemon.readiness import Readiness
from bridge.daemon.snapshot import SnapshotKeeper, take_snapshot
from bridge.http import watch_requests
from bridge.ledger import Ledger
from bridge.sync import CycleReport


class StatusService:
    """``start`` binds the port and reads a first snapshot; ``stop`` undoes both."""

    def __init__(
        self, settings: BridgeConfig, ledger: Ledger, *, refresh_seconds: float = 30.0
    ) -> None:
        if settings.daemon.http is None:
            raise ValueError("StatusService needs [daemon] http")
        self.running = threading.Event()
        """Set by the scheduler while it runs: what /readyz reports as "scheduler"."""
        self.keeper = SnapshotKeeper(lambda: take_snapshot(ledger, settings), refresh_seconds)
        registry, self.counters = build_registry(self.keeper.latest)
        self._http = HttpCounters(registry)
        self._unwatch: Callable[[], None] | None = None
        daemon = settings.daemon
        password = daemon.http_password.get_secret_value() if daemon.http_password else None
        credentials = (daemon.http_user, password) if daemon.http_user and password else None
        app = StatusApp(self.keeper, Readiness(ledger, self.running.is_set), registry, credentials)
        self.server = HttpServer(settings.daemon.http, app)

    def start(self) -> None:
        self._unwatch = watch_requests(self._http)
        self.server.start()
        self.keeper.refresh_now()
        self.keeper.start()

    def on_cycle(self, report: CycleReport) -> None:
        self.counters(report)
        self.keeper.poke()

    def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        self.keeper.stop()
        self.server.stop()
