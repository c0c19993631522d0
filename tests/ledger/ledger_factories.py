"""Small builders for ledger test data (no personal data anywhere)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bridge.ledger import CreateIntent, CreateResult, Lease, Ledger
from bridge.model import make_ref
from bridge.replica import ReplicaIdentity

ROUTE = "sidumas-to-lapor"
SOURCE = "sidumas"
TARGET = "lapor"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # where a test's clock starts
TTL = timedelta(seconds=60)  # the lease tests' lease length

# table name → number of rows, read behind the ledger's back
RowCounts = Callable[[], dict[str, int]]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ref_of(n: int) -> str:
    return make_ref(SOURCE, str(n))


def intent(n: int, *, status: str | None = "new") -> CreateIntent:
    """The intent to copy SIDUMAS complaint ``n`` to LAPOR!."""
    return CreateIntent(
        ref=ref_of(n),
        origin_system=SOURCE,
        origin_id=str(n),
        source_hash=digest(f"source {n}"),
        target_system=TARGET,
        raw_status_code="0",
        raw_status_label="Baru",
        status=status,
    )


def result(n: int, *, adopted: bool = False) -> CreateResult:
    """LAPOR! answered tracking id ``1000000 + n`` for complaint ``n``."""
    return CreateResult(
        ref=ref_of(n),
        target_system=TARGET,
        remote_id=str(1_000_000 + n),
        target_hash=digest(f"target {n}"),
        adopted=adopted,
    )


def linked(ledger: Ledger, *numbers: int) -> None:
    """Complaints ``numbers`` created in LAPOR!: linked in SIDUMAS and LAPOR!."""
    ledger.creates.record_intents(ROUTE, [intent(n) for n in numbers])
    ledger.cycles.complete_page(ROUTE, [result(n) for n in numbers])


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


def claimed(
    ledger: Ledger, holder: str, route: str = ROUTE, identity: ReplicaIdentity | None = None
) -> Lease:
    """``holder``'s lease of ``route`` for ``TTL``; fails the test if it is refused."""
    lease = ledger.leases.claim(route, holder, TTL, identity=identity)
    assert lease is not None, f"{holder} could not claim {route}"
    return lease
