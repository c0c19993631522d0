"""The ledger: the bridge's memory, in SQLite (default) or PostgreSQL.

``Ledger`` opens it and holds one object per concept (``ledger.links``,
``ledger.creates``, ``ledger.quarantine``, ``ledger.cycles`` …; listed in
``bridge.ledger.core``). The sync engine sees one route's part through
``RouteMemory`` (``bridge.ledger.memory``), which ``RouteLedger`` implements.

It remembers, per complaint, its identity in every system (links), what was last
seen and written there as content hashes (never copies of personal data), creates
whose intent is recorded before the remote call, records set aside with a reason,
a history of events, and, per route, cursors and cycle runs. For two-way sync it
also keeps follow-ups (by content fingerprint) and their copy in each system, when
and by whom the status was last set, review flags, and the re-poll schedule. The schema is owned
by the Alembic migrations in ``bridge.migrations``, run to head on ``Ledger.open``
(never with ``create=False``, the read-only opening). The ledger knows its own id and
generation (``bridge.ledger.meta``).

Errors: ``ConfigError`` when the URL or server is wrong at open; afterwards
``LedgerUnavailable`` (retryable) when the database fails, ``LedgerConflict``
(route error) when a write would link one record to two complaints, and ``LeaseLost``
(route error) when another replica took over the route a fenced cycle runs
(``bridge.ledger.leases``).
"""

from __future__ import annotations

from bridge.ledger.core import Ledger
from bridge.ledger.failures import (
    LeaseLost,
    LedgerConflict,
    LedgerMissing,
    LedgerOutdated,
    LedgerUnavailable,
)
from bridge.ledger.lease_rows import Fence
from bridge.ledger.memory import RouteMemory
from bridge.ledger.meta import LedgerIdentity
from bridge.ledger.route import RouteLedger
from bridge.ledger.systems import SystemNameTaken
from bridge.ledger.types import (
    ComplaintState,
    ComplaintTrace,
    CreateIntent,
    CreateResult,
    CycleInfo,
    EventInfo,
    FollowupCopyInfo,
    FollowupInfo,
    Lease,
    LeaseInfo,
    LinkInfo,
    PendingInfo,
    QuarantineInfo,
    ReviewInfo,
    RouteStatus,
    SeenUpdate,
    SetAside,
)

__all__ = [
    "ComplaintState",
    "ComplaintTrace",
    "CreateIntent",
    "CreateResult",
    "CycleInfo",
    "EventInfo",
    "Fence",
    "FollowupCopyInfo",
    "FollowupInfo",
    "Lease",
    "LeaseInfo",
    "LeaseLost",
    "Ledger",
    "LedgerConflict",
    "LedgerIdentity",
    "LedgerMissing",
    "LedgerOutdated",
    "LedgerUnavailable",
    "LinkInfo",
    "PendingInfo",
    "QuarantineInfo",
    "ReviewInfo",
    "RouteLedger",
    "RouteMemory",
    "RouteStatus",
    "SeenUpdate",
    "SetAside",
    "SystemNameTaken",
]
