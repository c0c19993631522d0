"""The re-poll schedule of systems without a change feed, as the links hold it.

The engine decides when each linked complaint is due again (older complaints less
often, final ones never). Since several routes may read one system, the schedule the
engine reads and writes is each route's (``bridge.ledger.route_links``; work owed is
due first there, ``OWED``); the link keeps its own, from which a route new to the
ledger starts. ``first_poll`` runs inside the caller's transaction: a new link is due
at once, on the link and for every route that now carries its complaint.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, exists, update
from sqlalchemy.orm import Session

from bridge.ledger import route_links
from bridge.ledger.base import Database
from bridge.ledger.links import link_info, links_query
from bridge.ledger.prepared import Prepared, session_time
from bridge.ledger.sql import chunks
from bridge.ledger.tables import LINK
from bridge.ledger.types import LinkInfo


class Polls:
    """When each link is due for a re-poll: ``ledger.polls``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def due(
        self,
        system: str,
        *,
        now: datetime,
        limit: int,
        require_link_in: str | None = None,
    ) -> list[LinkInfo]:
        """Links of ``system`` due by ``now``, longest overdue first, at most ``limit``.

        With ``require_link_in``, only complaints also linked in that system.
        """
        query = due_query(system, now, limit, require_link_in)
        with self._db.read() as session:
            return [link_info(row) for row in session.execute(query)]

    def schedule(self, system: str, schedule: Sequence[tuple[str, datetime | None]]) -> None:
        """(remote id, next poll or None to stop polling) for links of ``system``; polled now."""
        with self._db.write() as session:
            schedule_polls(session, system, schedule, self._db.clock())


def due_query(system: str, now: datetime, limit: int, require_link_in: str | None) -> Select[Any]:
    """One indexed query: a range scan of ``ix_link_system_next_poll``, already in order."""
    query = links_query().where(LINK.c.system == system, LINK.c.next_poll_at <= now)
    if require_link_in is not None:
        other = LINK.alias("other")
        # Probes uq_link_complaint_system once per due link; no join, no sort.
        query = query.where(
            exists().where(
                other.c.complaint_id == LINK.c.complaint_id, other.c.system == require_link_in
            )
        )
    return query.order_by(LINK.c.next_poll_at, LINK.c.id).limit(limit)


def schedule_polls(
    session: Session,
    system: str,
    plan: Sequence[tuple[str, datetime | None]],
    now: datetime,
) -> None:
    """Next poll per remote id (None: stop polling), and polled now."""
    by_time: dict[datetime | None, list[str]] = {}
    for rid, next_at in dict(plan).items():
        by_time.setdefault(next_at, []).append(rid)
    # The engine schedules in a few tiers, so most ids share a time: one IN-list
    # update per time costs far less than one row update per id.
    single = [(ids[0], at) for at, ids in by_time.items() if len(ids) == 1]
    for next_at, ids in by_time.items():
        for part in chunks(ids) if len(ids) > 1 else ():
            session.execute(
                update(LINK)
                .where(LINK.c.system == system, LINK.c.remote_id.in_(part))
                .values(next_poll_at=next_at, polled_at=now)
            )
    if single:
        session.execute(
            update(LINK)
            .where(LINK.c.system == system, LINK.c.remote_id == bindparam("rid"))
            .values(next_poll_at=bindparam("next_at"), polled_at=now),
            [{"rid": rid, "next_at": next_at} for rid, next_at in single],
        )


def first_poll(session: Session, cids: Sequence[int], now: datetime) -> None:
    """Newly linked complaints are due at once, on every system they are linked in, for
    every route that now carries them (``route_links.join``).

    Links that already carry a schedule keep it.
    """
    ids = sorted(set(cids))
    if ids:
        due = session_time(session, now)
        _FIRST_POLL.run(session, [(due, cid) for cid in ids])
        route_links.join(session, ids, now)


_FIRST_POLL = Prepared(
    ("due", "cid"),
    lambda _dialect: (
        update(LINK)
        .where(LINK.c.complaint_id == bindparam("cid"), LINK.c.next_poll_at.is_(None))
        .values(next_poll_at=bindparam("due"))
    ),
)


# Due "since ever": re-polls are taken oldest-due first, so work owed goes before any
# routine re-poll, however long the backlog of those (a burst of new links) is.
OWED = datetime(2000, 1, 1, tzinfo=UTC)
