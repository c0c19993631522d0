"""What each route last saw of its source's records, and when it polls them again.

One record may be read by several routes: a LAPOR! complaint linked to records of two
doors is read by ``lapor-to-sidumas`` and by ``lapor-to-wadesk`` (issue 14). Kept on the
link, the hash a change is told by and the re-poll schedule were consumed by whichever
route read LAPOR! first, and the other door never got the answer. So they are kept per
(route, link) in ``route_link``, for every complaint a route carries (linked both in its
source and in its target); the link keeps its own copy of the last hash for the history.

- ``register`` (from the configuration, when routes are built; and a route's first cycle)
  names each route's source and target in ``route_def``. A route new to the ledger, or
  whose systems changed, starts from what the links hold: a ledger upgraded from
  0010 loses nothing it saw (the migration cannot know the routes).
- ``join`` (with every new link: a create, an adoption, a duplicate joining a complaint)
  gives each route that now carries the complaint its row, due at once, so LAPOR!'s
  answers so far reach a door whose record joins late.
- ``note_seen``, ``owe``, ``schedule``, ``due``: one route's view, in the route's writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Insert,
    Select,
    Update,
    bindparam,
    delete,
    exists,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.links import link_info, links_query
from bridge.ledger.prepared import Prepared, session_time
from bridge.ledger.sql import chunks
from bridge.ledger.tables import LINK, ROUTE_DEF, ROUTE_LINK
from bridge.ledger.types import LinkInfo, SeenUpdate

_TARGET = LINK.alias("target_link")


class RouteLinks:
    """Each route's view of the links it carries: ``ledger.route_links``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def register(self, routes: Sequence[tuple[str, str, str]]) -> None:
        """(route, source, target) of the configuration's routes; new ones start from the links."""
        with self._db.write() as session:
            known = {r.route: (r.source, r.target) for r in session.execute(select(ROUTE_DEF))}
            for name, source, target in routes:
                if known.get(name) == (source, target):
                    continue
                if name in known:  # its systems changed: what it saw was of other records
                    session.execute(delete(ROUTE_LINK).where(ROUTE_LINK.c.route == name))
                    session.execute(delete(ROUTE_DEF).where(ROUTE_DEF.c.route == name))
                # Replicas start together: only the one that adds the route fills its rows.
                if _added(session, name, source, target):
                    session.execute(_seed(name, source, target))
                known[name] = (source, target)

    def due(
        self, route: str, system: str, target: str, *, now: datetime, limit: int
    ) -> list[LinkInfo]:
        """``route``'s links of ``system`` due by ``now``, linked in ``target``, oldest first."""
        query = due_query(route, system, target, now, limit)
        with self._db.read() as session:
            return [link_info(row) for row in session.execute(query)]

    def schedule(
        self, route: str, system: str, plan: Sequence[tuple[str, datetime | None]]
    ) -> None:
        """(remote id, next poll or None to stop) of ``route``'s links of ``system``; polled now."""
        now = self._db.clock()
        by_time: dict[datetime | None, list[str]] = {}
        for rid, next_at in dict(plan).items():
            by_time.setdefault(next_at, []).append(rid)
        # The engine schedules in a few tiers: one IN-list update per time, not one per id.
        with self._db.write() as session:
            for next_at, ids in by_time.items():
                _set_polls(session, route, system, ids, next_poll_at=next_at, polled_at=now)


def due_query(route: str, system: str, target: str, now: datetime, limit: int) -> Select[Any]:
    """A range of ``ix_route_link_route_next_poll``, in order; only complaints ``target`` holds."""
    query = links_query(route).where(
        LINK.c.system == system,
        ROUTE_LINK.c.route == route,
        ROUTE_LINK.c.next_poll_at <= now,
        _linked_in(target),  # a split took the record off: the route carries it no more
    )
    return query.order_by(ROUTE_LINK.c.next_poll_at, ROUTE_LINK.c.id).limit(limit)


def join(session: Session, cids: Sequence[int], now: datetime) -> None:
    """Each route now carrying one of complaints ``cids`` gets its row for it, due at once.

    Rows already there keep their schedule (a create completed again changes nothing).
    """
    ids = sorted(set(cids))
    if ids:
        due = session_time(session, now)
        _JOIN.run(session, [(due, cid) for cid in ids])


def forget(session: Session, cid: int, system: str) -> None:
    """A record of ``system`` left complaint ``cid`` (a split): routes writing there stop."""
    writing = select(ROUTE_DEF.c.route).where(ROUTE_DEF.c.target == system)
    links = select(LINK.c.id).where(LINK.c.complaint_id == cid)
    session.execute(
        delete(ROUTE_LINK).where(ROUTE_LINK.c.route.in_(writing), ROUTE_LINK.c.link_id.in_(links))
    )


def note_seen(session: Session, route: str, system: str, updates: Sequence[SeenUpdate]) -> None:
    """What ``route`` saw of records of ``system`` it carries."""
    latest = {u.remote_id: u.content_hash for u in updates}
    if not latest:
        return
    _NOTE_SEEN.run(session, [(seen, route, system, rid) for rid, seen in latest.items()])


def _note_seen() -> Update:
    link_id = select(LINK.c.id).where(
        LINK.c.system == bindparam("system"), LINK.c.remote_id == bindparam("rid")
    )
    return (
        update(ROUTE_LINK)
        .where(
            ROUTE_LINK.c.route == bindparam("route"),
            ROUTE_LINK.c.link_id == link_id.scalar_subquery(),
        )
        .values(seen_hash=bindparam("seen"))
    )


_NOTE_SEEN = Prepared(("seen", "route", "system", "rid"), lambda _dialect: _note_seen())


def owe(
    session: Session, route: str, system: str, remote_ids: Sequence[str], due: datetime
) -> None:
    """Work owed on these records (a change seen, not carried yet): due for ``route`` first."""
    _set_polls(session, route, system, remote_ids, next_poll_at=due)


def _set_polls(
    session: Session, route: str, system: str, remote_ids: Sequence[str], **values: object
) -> None:
    for part in chunks(sorted(set(remote_ids))):
        session.execute(
            update(ROUTE_LINK)
            .where(ROUTE_LINK.c.route == route, ROUTE_LINK.c.link_id.in_(_link_ids(system, part)))
            .values(**values)
        )


def _link_ids(system: str, remote_ids: Sequence[str]) -> Select[Any]:
    return select(LINK.c.id).where(LINK.c.system == system, LINK.c.remote_id.in_(remote_ids))


def _added(session: Session, route: str, source: str, target: str) -> bool:
    dialect = session.get_bind().dialect.name
    stmt = postgresql.insert(ROUTE_DEF) if dialect == "postgresql" else sqlite.insert(ROUTE_DEF)
    values = stmt.values(route=route, source=source, target=target)
    result = session.execute(values.on_conflict_do_nothing(index_elements=["route"]))
    return bool(getattr(result, "rowcount", 0))


_COLUMNS = ("route", "link_id", "seen_hash", "next_poll_at", "polled_at")


def _seed(route: str, source: str, target: str) -> Insert:
    """Rows of every complaint ``route`` carries, as the source's links hold them."""
    query = select(
        literal(route), LINK.c.id, LINK.c.last_seen_hash, LINK.c.next_poll_at, LINK.c.polled_at
    ).where(LINK.c.system == source, _linked_in(target), ~_kept_by(literal(route)))
    return insert(ROUTE_LINK).from_select(_COLUMNS, query)


def _seed_complaint() -> Insert:
    """Rows of complaint ``cid`` for every registered route carrying it, due at ``due``."""
    query = (
        select(
            ROUTE_DEF.c.route,
            LINK.c.id,
            LINK.c.last_seen_hash,
            bindparam("due", type_=ROUTE_LINK.c.next_poll_at.type),
            null(),
        )
        .select_from(ROUTE_DEF.join(LINK, LINK.c.system == ROUTE_DEF.c.source))
        .where(
            LINK.c.complaint_id == bindparam("cid"),
            _linked_in(ROUTE_DEF.c.target),
            ~_kept_by(ROUTE_DEF.c.route),
        )
    )
    return insert(ROUTE_LINK).from_select(_COLUMNS, query)


_JOIN = Prepared(("due", "cid"), lambda _dialect: _seed_complaint())


def _linked_in(target: str | ColumnElement[str]) -> Exists:
    """The source link's complaint has a record in ``target`` too."""
    return exists().where(_TARGET.c.complaint_id == LINK.c.complaint_id, _TARGET.c.system == target)


def _kept_by(route: ColumnElement[str]) -> Exists:
    return exists().where(ROUTE_LINK.c.route == route, ROUTE_LINK.c.link_id == LINK.c.id)
