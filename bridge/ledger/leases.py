"""Route leases: one replica runs a route at a time, fenced by a run number.

A lease says which replica (``holder``) runs a route until when (``expires_at``).
A replica *claims* a route before its cycle: the claim succeeds when the lease is
free, expired or already its own. Taking a lease over (from another replica, or
from nobody) increments the route's ``run_number``; renewing one's own live lease
keeps it. Times come from the ledger's clock, so replicas' clocks must agree to
well within the TTL (NTP does).

**Who holds it.** The row names the holder twice: ``holder``, the display name
(``--replica``), and ``holder_identity``, the claiming process's ``ReplicaIdentity``
(``bridge.replica``) prefixed with the run it was written for. A lease is one's own
only when both match, so two bridges sharing a name never share a lease. A live
lease of another is taken over at once only when its identity proves the holder a
gone process of this machine and PID namespace; an unknown identity (a holder of an
older version, or a platform without /proc) is waited out until the lease expires.

How the claim is made safe on each backend:

- **PostgreSQL**: the row is inserted if missing (``ON CONFLICT DO NOTHING``), then
  read ``FOR UPDATE SKIP LOCKED``: a row another transaction holds (a claim in
  progress, or the holder's fenced write) counts as held, and nobody waits.
- **SQLite**: every write transaction is ``BEGIN IMMEDIATE`` (``bridge.ledger.db``),
  so claims and fenced writes are already serialised.

Both then write with a compare-and-set ``UPDATE … WHERE route = ? AND run_number = ?
AND (expires_at IS NULL OR expires_at <= now OR the holder and identity are still the
ones the decision was made on)``, checked by its row count.

**Fencing.** ``Ledger.fenced(lease, ttl)`` marks the block in which a cycle of the
route runs under ``lease``. Every ledger write that belongs to the route's cycle
(intents, pages, quarantine, follow-up and status writes) then first checks, in its
own transaction, that the row still names this holder and run number (read ``FOR
UPDATE`` on PostgreSQL, so no claim can slip in before the commit), and fails with
``LeaseLost`` otherwise. The same check renews the lease once more than a third of
its TTL has passed, so a long cycle keeps its route page after page.

**Remote creates.** A remote create is not a ledger write, so fencing alone cannot
stop a replica whose lease ran out from sending one. What is guaranteed:

1. Right before each remote create, ``Ledger.sending_create`` (called by
   ``bridge.sync.act.send``) checks the lease, renews it for a *whole* TTL (a
   plain fence check renews only once a third of the TTL has passed) and stamps
   the create's ``sent_at``, in one transaction: a create that starts on a live
   lease keeps the route for at least one TTL, whatever was left of it before.
2. So another replica takes the route over only after A has been out of touch
   with the ledger for a whole TTL after its last check. It then resumes A's
   started creates: the engine plans a ``Resume`` for every pending create of the
   route (``pending_creates`` is per route, whoever recorded it), and a ``Resume``
   always looks the target up by the bridge's reference before sending, or is set
   aside when the target cannot be searched.
   When A is a provably gone process of this machine, the route is taken over at
   once (see "Who holds it"), but a ``Resume`` the target does not know yet and
   that was sent (``sent_at``) is not sent again before A's lease would have
   expired (``resend_wait``): the cycle stops with a ``RetryableError`` and the
   next one looks again. The same TTL after A's last check thus holds for every
   takeover; a create A never sent (no ``sent_at``) cannot be on its way, and
   goes at once.
3. A cannot commit anything after losing the route: its result and cursor writes
   fail with ``LeaseLost``, and the create that was in flight is reported as
   ``complaint.create.outlived_lease`` with its reference and remote id.

**The window that remains**: a create doubles only if A's request reaches the
target and is stored there *more than one TTL after A's last check*, and the new
holder's lookup by reference ran before that. That takes a stall of A between the
check and the request (a frozen VM, SIGSTOP, a long GC pause), a ``create`` call
that takes longer than the TTL (uploads and rate-limit retries included: keep
``daemon.lease_seconds`` well above the HTTP timeouts and retry budget), a target
still storing, that late, a request whose sender is gone, or a target whose search
lags behind its writes. The target cannot check our run number, so no bridge-side
check can close it; the double is then visible as two remote records carrying the
same reference, and as the ``complaint.create.outlived_lease`` warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Row, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.ledger.base import Clock, LedgerBase, utc_now
from bridge.ledger.failures import LeaseLost
from bridge.ledger.tables import ROUTE_LEASE
from bridge.ledger.types import Lease, LeaseInfo
from bridge.replica import ReplicaIdentity

# A fence check renews the lease once less than this share of its TTL is left.
RENEW_BELOW = 2 / 3


@dataclass(frozen=True)
class _Fence:
    lease: Lease
    ttl: timedelta


class LeaseLedger(LedgerBase):
    """Claiming, renewing and releasing route leases, and fencing a cycle's writes."""

    def __init__(self, engine: Engine, url_for_display: str, clock: Clock = utc_now) -> None:
        super().__init__(engine, url_for_display, clock)
        # route → the lease the cycle running in this process writes under.
        self._fences: dict[str, _Fence] = {}
        # route → until when a create of a holder taken over early may still be on its way.
        self._predecessors: dict[str, datetime] = {}

    def claim_lease(
        self,
        route: str,
        holder: str,
        ttl: timedelta,
        *,
        identity: ReplicaIdentity | None = None,
    ) -> Lease | None:
        """The route's lease for ``holder`` until now + ``ttl``, or None if another holds it.

        ``identity`` is the claiming process's (``bridge.replica``): stored with the
        lease, and used to take a live lease over at once when its holder is provably
        a gone process of this machine. Without it, live leases of others are waited out.
        """
        now = self._clock()
        with self._write() as session:
            lease = claim(session, route, holder, now + ttl, now, identity)
        if lease is not None and lease.predecessor_until is not None:
            self._predecessors[route] = lease.predecessor_until
        return lease

    def resend_wait(self, route: str) -> datetime | None:
        """Until when an unconfirmed create of ``route`` must not be sent again, if it must wait.

        Set when this process took the route over early from a gone holder: a create
        that holder sent may still be on its way to the target until its lease would
        have expired, as after a takeover on expiry (see the module docstring).
        """
        until = self._predecessors.get(route)
        return until if until is not None and until > self._clock() else None

    def renew_lease(self, lease: Lease, ttl: timedelta) -> Lease:
        """``lease`` extended to now + ``ttl``; ``LeaseLost`` if another replica took over."""
        now = self._clock()
        with self._write() as session:
            return renew(session, lease, now + ttl, now)

    def release_lease(self, lease: Lease) -> None:
        """Let the route go now (graceful shutdown); a lease taken over meanwhile is left alone."""
        now = self._clock()
        with self._write() as session:
            _where_ours(session, lease, expires_at=now)

    def lease_of(self, route: str) -> LeaseInfo | None:
        with self._read() as session:
            return _row(session, route, lock=False)

    def leases(self) -> list[LeaseInfo]:
        """Every route's lease ever claimed, by route."""
        with self._read() as session:
            rows = session.execute(select(ROUTE_LEASE).order_by(ROUTE_LEASE.c.route))
            return [_info(row) for row in rows]

    @contextmanager
    def fenced(self, lease: Lease, ttl: timedelta) -> Iterator[None]:
        """Inside this block, the route's writes fail with ``LeaseLost`` once it is taken over.

        ``ttl`` is how far each renewal made by a fence check reaches.
        """
        route = lease.route
        previous = self._fences.get(route)
        self._fences[route] = _Fence(lease, ttl)
        try:
            yield
        finally:
            if previous is None:
                self._fences.pop(route, None)
            else:
                self._fences[route] = previous

    def check_fence(self, route: str) -> None:
        """``LeaseLost`` now if ``route`` was taken over; else renews it for a whole TTL.

        Called right before a remote create or write (see the module docstring); a
        no-op outside ``fenced``.
        """
        fence = self._fences.get(route)
        if fence is not None:
            with self._write() as session:
                hold(session, fence.lease, fence.ttl, self._clock(), renew=True)

    def still_holds(self, route: str) -> bool:
        """False once ``route``'s fenced lease was taken over; a read only, so it commits nothing.

        True outside ``fenced``.
        """
        fence = self._fences.get(route)
        if fence is None:
            return True
        with self._read() as session:
            row = _row(session, route, lock=False)
        return row is not None and (row.holder, row.run_number) == (
            fence.lease.holder,
            fence.lease.run_number,
        )

    @contextmanager
    def _route_write(self, route: str, *, renew: bool = False) -> Iterator[Session]:
        """A write transaction of ``route``'s cycle: fenced when a fence is set for it.

        ``renew`` renews the lease for a whole TTL whatever is left (before a remote call).
        """
        fence = self._fences.get(route)
        with self._write() as session:
            if fence is not None:
                hold(session, fence.lease, fence.ttl, self._clock(), renew=renew)
            yield session


def claim(
    session: Session,
    route: str,
    holder: str,
    expires_at: datetime,
    now: datetime,
    identity: ReplicaIdentity | None = None,
) -> Lease | None:
    """Take or renew ``route``'s lease for ``holder`` in the caller's transaction."""
    _ensure_row(session, route)
    row = _row(session, route, skip_locked=True)
    if row is None:
        return None  # PostgreSQL: another transaction holds the row right now
    live = row.expires_at is not None and row.expires_at > now
    # Ours only if both the name and the process match: two bridges given one name
    # (or two containers whose `<hostname>:<pid>` coincide) must not share a lease.
    mine = row.holder == holder and holder_identity(row) == identity
    gone = live and not mine and _proves_gone(identity, row)
    if live and not mine and not gone:
        return None
    run_number = row.run_number if live and mine else row.run_number + 1
    free = [ROUTE_LEASE.c.expires_at.is_(None), ROUTE_LEASE.c.expires_at <= now]
    if mine or gone:  # still the holder we decided about
        free.append(
            and_(
                ROUTE_LEASE.c.holder == row.holder,
                ROUTE_LEASE.c.holder_identity.is_not_distinct_from(row.holder_identity),
            )
        )
    taken = _changed(
        session,
        update(ROUTE_LEASE)
        .where(
            ROUTE_LEASE.c.route == route,
            ROUTE_LEASE.c.run_number == row.run_number,
            or_(*free),
        )
        .values(
            holder=holder,
            holder_identity=_identity_text(identity, run_number),
            run_number=run_number,
            expires_at=expires_at,
            renewed_at=now,
        ),
    )
    if not taken:
        return None
    return Lease(route, holder, run_number, expires_at, row.expires_at if gone else None)


def holder_identity(row: LeaseInfo) -> ReplicaIdentity | None:
    """The identity of the lease's holder; None when unknown (an old-format holder).

    Trusted only if written by the claim that started the row's run: a bridge of an
    older version, still running beside a newer one, takes a lease over without
    writing an identity, and must not inherit the one of the holder before it.
    """
    prefix = f"run {row.run_number} "
    text = row.holder_identity or ""
    return ReplicaIdentity.from_text(text.removeprefix(prefix)) if text.startswith(prefix) else None


def _identity_text(identity: ReplicaIdentity | None, run_number: int) -> str | None:
    return None if identity is None else f"run {run_number} {identity.to_text()}"


def _proves_gone(identity: ReplicaIdentity | None, row: LeaseInfo) -> bool:
    """True when the row's holder is provably a gone process of this machine."""
    holder = holder_identity(row)
    return identity is not None and holder is not None and identity.proves_gone(holder)


def renew(session: Session, lease: Lease, expires_at: datetime, now: datetime) -> Lease:
    if not _where_ours(session, lease, expires_at=expires_at, renewed_at=now):
        raise _lost(session, lease)
    return Lease(lease.route, lease.holder, lease.run_number, expires_at)


def hold(
    session: Session, lease: Lease, ttl: timedelta, now: datetime, *, renew: bool = False
) -> None:
    """The fence check: ``LeaseLost`` unless ``lease`` is still the route's; renew when due.

    ``renew`` renews it now, however much is left (right before a remote call).

    On PostgreSQL the row stays locked until the caller's transaction ends, so the
    lease cannot change hands between this check and the commit of the writes it
    guards; on SQLite the write transaction holds the database's write lock.
    """
    row = _row(session, lease.route)
    if row is None or (row.holder, row.run_number) != (lease.holder, lease.run_number):
        raise _lost(session, lease)
    if renew or row.expires_at is None or row.expires_at - now < ttl * RENEW_BELOW:
        _where_ours(session, lease, expires_at=now + ttl, renewed_at=now)


def _ensure_row(session: Session, route: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {"route": route, "holder": None, "run_number": 0}
    session.execute(
        insert(ROUTE_LEASE).values(row).on_conflict_do_nothing(index_elements=["route"])
    )


def _row(
    session: Session, route: str, *, lock: bool = True, skip_locked: bool = False
) -> LeaseInfo | None:
    """The route's lease row; on PostgreSQL locked ``FOR UPDATE`` unless ``lock`` is False."""
    query = select(ROUTE_LEASE).where(ROUTE_LEASE.c.route == route)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=skip_locked)
    row = session.execute(query).first()
    return _info(row) if row is not None else None


def _where_ours(session: Session, lease: Lease, **values: datetime) -> bool:
    """Update the lease row only if it still names this holder and run; True if it did."""
    return _changed(
        session,
        update(ROUTE_LEASE)
        .where(
            ROUTE_LEASE.c.route == lease.route,
            ROUTE_LEASE.c.holder == lease.holder,
            ROUTE_LEASE.c.run_number == lease.run_number,
        )
        .values(**values),
    )


def _changed(session: Session, statement: Any) -> bool:
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1


def _lost(session: Session, lease: Lease) -> LeaseLost:
    row = _row(session, lease.route, lock=False)
    held = "it has no holder now"
    if row is not None and row.holder is not None:
        held = f"{row.holder} holds run {row.run_number}"
    return LeaseLost(
        f"route {lease.route!r} was taken over ({held}); this replica ({lease.holder}, "
        f"run {lease.run_number}) stops the cycle and writes nothing more"
    )


def _info(row: Row[Any]) -> LeaseInfo:
    m = row._mapping
    return LeaseInfo(
        m["route"],
        m["holder"],
        m["run_number"],
        m["expires_at"],
        m["renewed_at"],
        m["holder_identity"],
    )
