"""Running the bridge as a service: the scheduler, the route leases, the ledger guard, metrics.

- ``scheduler``: ``run_daemon``, one APScheduler job per route, and a graceful shutdown;
- ``leases``: ``RouteLeases``, the route leases one replica claims, renews and releases,
  and ``replica_name``, the name it holds them under;
- ``ledger_guard``: ``open_for_cycles``, the ledger for commands that run cycles, refused
  when it is not the one the bridge last wrote to;
- ``metrics``: ``render_metrics``, the bridge's state as Prometheus text, read from the ledger;
- ``service``: ``StatusService``, the HTTP server of ``[daemon] http`` (``endpoints``:
  /livez, /readyz, /metrics with prometheus-client (``prom``), /status and /status.json
  from a ``snapshot`` of the ledger, with the SLA watch of ``bridge.sla``).

The top of the house: the daemon imports the sync engine, the ledger and the
configuration, and nothing but the CLI imports the daemon. That is why the small
process-wide modules the lower layers need stay beside them, outside this package:
``bridge.replica`` (who a replica is: the ledger's leases prove it),
``bridge.shutdown`` (the stop flag HTTP requests check) and ``bridge.health`` (the pause
policy the configuration, the ledger and the sync cycle share).
"""

from __future__ import annotations

from bridge.daemon.leases import DEFAULT_LEASE_TTL, RouteLeases, replica_name
from bridge.daemon.ledger_guard import (
    LedgerReplaced,
    StateRecorder,
    accept,
    open_for_cycles,
    read_state,
    state_path,
)
from bridge.daemon.metrics import render_metrics, write_atomically
from bridge.daemon.scheduler import run_daemon
from bridge.daemon.service import StatusService

__all__ = [
    "DEFAULT_LEASE_TTL",
    "LedgerReplaced",
    "RouteLeases",
    "StateRecorder",
    "StatusService",
    "accept",
    "open_for_cycles",
    "read_state",
    "render_metrics",
    "replica_name",
    "run_daemon",
    "state_path",
    "write_atomically",
]
