"""A route's lease row: claiming, renewing and the fence check, in the caller's transaction.

How a claim is made safe on each backend, and what fencing guarantees around a
remote create, is told in ``bridge.ledger.leases``; the ``Leases`` concept there and
every fenced write (``Database.route_write``) stand on these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.ledger.failures import LeaseLost
from bridge.ledger.tables import ROUTE_LEASE
from bridge.ledger.types import Lease, LeaseInfo
from bridge.replica import ReplicaIdentity

# A fence check renews the lease once less than this share of its TTL is left.
RENEW_BELOW = 2 / 3


@dataclass(frozen=True)
class Fence:
    """The lease a route's cycle writes under, and how far each renewal reaches."""

    lease: Lease
    ttl: timedelta


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
    row = lease_row(session, route, skip_locked=True)
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
    if not where_ours(session, lease, expires_at=expires_at, renewed_at=now):
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
    row = lease_row(session, lease.route)
    if row is None or (row.holder, row.run_number) != (lease.holder, lease.run_number):
        raise _lost(session, lease)
    if renew or row.expires_at is None or row.expires_at - now < ttl * RENEW_BELOW:
        where_ours(session, lease, expires_at=now + ttl, renewed_at=now)


def _ensure_row(session: Session, route: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row = {"route": route, "holder": None, "run_number": 0}
    session.execute(
        insert(ROUTE_LEASE).values(row).on_conflict_do_nothing(index_elements=["route"])
    )


def lease_row(
    session: Session, route: str, *, lock: bool = True, skip_locked: bool = False
) -> LeaseInfo | None:
    """The route's lease row; on PostgreSQL locked ``FOR UPDATE`` unless ``lock`` is False."""
    query = select(ROUTE_LEASE).where(ROUTE_LEASE.c.route == route)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=skip_locked)
    row = session.execute(query).first()
    return lease_info(row) if row is not None else None


def where_ours(session: Session, lease: Lease, **values: datetime) -> bool:
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
    row = lease_row(session, lease.route, lock=False)
    held = "it has no holder now"
    if row is not None and row.holder is not None:
        held = f"{row.holder} holds run {row.run_number}"
    return LeaseLost(
        f"route {lease.route!r} was taken over ({held}); this replica ({lease.holder}, "
        f"run {lease.run_number}) stops the cycle and writes nothing more"
    )


def lease_info(row: Row[Any]) -> LeaseInfo:
    m = row._mapping
    return LeaseInfo(
        m["route"],
        m["holder"],
        m["run_number"],
        m["expires_at"],
        m["renewed_at"],
        m["holder_identity"],
    )
