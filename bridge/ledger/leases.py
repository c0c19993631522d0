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
ones the decision was made on)``, checked by its row count (``bridge.ledger.lease_rows``).

**Fencing.** ``ledger.leases.fenced(lease, ttl)`` (or a ``RouteLedger`` bound to the
lease, ``bridge.ledger.route``) marks the block in which a cycle of the
route runs under ``lease``. Every ledger write that belongs to the route's cycle
(intents, pages, quarantine, follow-up and status writes) then first checks, in its
own transaction, that the row still names this holder and run number (read ``FOR
UPDATE`` on PostgreSQL, so no claim can slip in before the commit), and fails with
``LeaseLost`` otherwise. The same check renews the lease once more than a third of
its TTL has passed, so a long cycle keeps its route page after page.

**Remote creates.** A remote create is not a ledger write, so fencing alone cannot
stop a replica whose lease ran out from sending one. What is guaranteed:

1. Before a remote create the lease is checked and renewed for a *whole* TTL (a
   plain fence check renews only once a third of the TTL has passed), and the
   create's ``sent_at`` is stamped: a create that starts on a live lease keeps the
   route for at least one TTL, whatever was left of it before. A page's first
   attempts are stamped with their intents, in that commit; a resend or an
   adoption alone right before it starts (``ledger.creates.sending_many``). One
   check covers the creates that start within ``bridge.sync.sending.NOTE_FRESH``
   (1 s) of it by the ledger's clock, so the window below grows by at most that;
   and each create is written to the sending log as started right before it
   leaves (``bridge.ledger.sending_log``).
2. So another replica takes the route over only after A has been out of touch
   with the ledger for a whole TTL after its last check. It then resumes A's
   started creates: the engine plans a ``Resume`` for every pending create of the
   route (``ledger.creates.pending`` is per route, whoever recorded it), and a ``Resume``
   always looks the target up by the bridge's reference before sending, or is set
   aside when the target cannot be searched.
   When A is a provably gone process of this machine, the route is taken over at
   once (see "Who holds it"), but a ``Resume`` the target does not know yet and
   that was sent (``sent_at``) is not sent again before A's lease would have
   expired (``Leases.resend_wait``): the cycle stops with a ``RetryableError`` and the
   next one looks again. The same TTL after A's last check thus holds for every
   takeover; a create A never sent (no ``sent_at``, or stamped with its page and
   never started by the sending log) cannot be on its way, and goes at once.
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
from datetime import datetime, timedelta

from sqlalchemy import select

from bridge.ledger.base import Database
from bridge.ledger.lease_rows import Fence, claim, hold, lease_info, lease_row, renew, where_ours
from bridge.ledger.tables import ROUTE_LEASE
from bridge.ledger.types import Lease, LeaseInfo
from bridge.replica import ReplicaIdentity


class Leases:
    """Claiming, renewing and releasing route leases, and fencing a cycle's writes."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # route → until when a create of a holder taken over early may still be on its way.
        self._predecessors: dict[str, datetime] = {}

    def claim(
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
        now = self._db.clock()
        with self._db.write() as session:
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
        return until if until is not None and until > self._db.clock() else None

    def renew(self, lease: Lease, ttl: timedelta) -> Lease:
        """``lease`` extended to now + ``ttl``; ``LeaseLost`` if another replica took over."""
        now = self._db.clock()
        with self._db.write() as session:
            return renew(session, lease, now + ttl, now)

    def release(self, lease: Lease) -> None:
        """Let the route go now (graceful shutdown); a lease taken over meanwhile is left alone."""
        now = self._db.clock()
        with self._db.write() as session:
            where_ours(session, lease, expires_at=now)

    def of(self, route: str) -> LeaseInfo | None:
        """``route``'s lease as it stands; None if it was never claimed."""
        with self._db.read() as session:
            return lease_row(session, route, lock=False)

    def listed(self) -> list[LeaseInfo]:
        """Every route's lease ever claimed, by route."""
        with self._db.read() as session:
            rows = session.execute(select(ROUTE_LEASE).order_by(ROUTE_LEASE.c.route))
            return [lease_info(row) for row in rows]

    @contextmanager
    def fenced(self, lease: Lease, ttl: timedelta) -> Iterator[None]:
        """Inside this block, the route's writes fail with ``LeaseLost`` once it is taken over.

        ``ttl`` is how far each renewal made by a fence check reaches.
        """
        fences, route = self._db.fences, lease.route
        previous = fences.get(route)
        fences[route] = Fence(lease, ttl)
        try:
            yield
        finally:
            if previous is None:
                fences.pop(route, None)
            else:
                fences[route] = previous

    def check_fence(self, route: str) -> None:
        """``LeaseLost`` now if ``route`` was taken over; else renews it for a whole TTL.

        Called right before a remote create or write (see the module docstring); a
        no-op outside ``fenced``.
        """
        fence = self._db.fences.get(route)
        if fence is not None:
            with self._db.write() as session:
                hold(session, fence.lease, fence.ttl, self._db.clock(), renew=True)

    def still_holds(self, route: str) -> bool:
        """False once ``route``'s fenced lease was taken over; a read only, so it commits nothing.

        True outside ``fenced``.
        """
        fence = self._db.fences.get(route)
        if fence is None:
            return True
        with self._db.read() as session:
            row = lease_row(session, route, lock=False)
        return row is not None and (row.holder, row.run_number) == (
            fence.lease.holder,
            fence.lease.run_number,
        )
