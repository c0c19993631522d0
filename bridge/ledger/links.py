"""Links: a complaint's identity in each system, and what the bridge last saw there.

A link ties one complaint (its bridge reference) to one record of one system, with
the hash of what was last seen there (never a copy of personal data) and its raw
status. A link is made by a create (``bridge.ledger.creates``); this module reads
links and refreshes what was seen on them. The session functions run inside the
caller's transaction, so a page's observations commit with its cursor
(``bridge.ledger.cycles``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, case, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_row
from bridge.ledger.prepared import Prepared, PreparedIn, session_time
from bridge.ledger.sql import chunks
from bridge.ledger.statuses import set_statuses
from bridge.ledger.tables import COMPLAINT, LINK, ROUTE_LINK
from bridge.ledger.types import LinkInfo, SeenUpdate


class Links:
    """Identities of complaints in every system: ``ledger.links``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def by_remote(
        self, system: str, remote_ids: Sequence[str], *, route: str | None = None
    ) -> dict[str, LinkInfo]:
        """remote id → link, for those of ``remote_ids`` the ledger knows in ``system``.

        With ``route``: what that route last saw and when it polls (``links_query``).
        """
        prepared, fixed = (
            (_BY_REMOTE, (system,)) if route is None else (_BY_REMOTE_ROUTE, (route, system))
        )
        with self._db.read() as session:
            found: dict[str, LinkInfo] = {}
            for part in chunks(sorted(set(remote_ids))):
                rows = prepared.rows(session, fixed, part)
                found.update({i.remote_id: i for i in (LinkInfo(*row) for row in rows)})
            return found

    def of(self, ref: str, system: str) -> LinkInfo | None:
        """Complaint ``ref``'s link in ``system``, if it has one."""
        with self._db.read() as session:
            rows = _OF.rows(session, (ref, system))
        return LinkInfo(*rows[0]) if rows else None

    def count(self, system: str) -> int:
        """How many links the ledger holds in ``system``."""
        query = select(func.count()).where(LINK.c.system == system)
        with self._db.read() as session:
            return session.scalar(query) or 0

    def note_seen(self, system: str, updates: Sequence[SeenUpdate]) -> None:
        """Refresh what was last seen on existing links; note a change when the hash moved."""
        with self._db.write() as session:
            note_seen(session, system, updates, self._db.clock())


def normal_ticket(ticket: str | None) -> str | None:
    """A ticket number as the ledger keeps and finds it: trimmed, upper-cased; blank is None."""
    if ticket is None:
        return None
    return ticket.strip().upper() or None


def links_query(route: str | BindParameter[str] | None = None) -> Select[Any]:
    """Links with what their complaint adds, one column per ``LinkInfo`` field, in order.

    With ``route``, the hash last seen and the poll schedule are that route's
    (``route_link``: several routes may read one system), the link's own where the route
    keeps none for it (a complaint it does not carry).
    """
    if route is None:
        return select(*_LINK_INFO_COLUMNS).join(COMPLAINT, COMPLAINT.c.id == LINK.c.complaint_id)
    mine = and_(ROUTE_LINK.c.link_id == LINK.c.id, ROUTE_LINK.c.route == route)
    columns = (
        case((ROUTE_LINK.c.id.is_(None), column), else_=ROUTE_LINK.c[_PER_ROUTE[name]]).label(name)
        if name in _PER_ROUTE
        else column
        for name, column in zip(LinkInfo.__dataclass_fields__, _LINK_INFO_COLUMNS, strict=True)
    )
    return (
        select(*columns)
        .select_from(LINK)
        .join(COMPLAINT, COMPLAINT.c.id == LINK.c.complaint_id)
        .outerjoin(ROUTE_LINK, mine)
    )


# LinkInfo fields a route keeps for itself (``bridge.ledger.route_links``) → route_link column.
_PER_ROUTE = {
    "last_seen_hash": "seen_hash",
    "next_poll_at": "next_poll_at",
    "polled_at": "polled_at",
}


# Built positionally: naming 15 attributes of each Row cost more than the query
# itself when the engine reads a thousand links due for a poll.
_LINK_INFO_COLUMNS = tuple(
    COMPLAINT.c.created_at.label(name)
    if name == "complaint_created_at"
    else (
        COMPLAINT.c[name]
        if name in {"ref", "origin_system", "origin_id", "status"}
        else LINK.c[name]
    )
    for name in LinkInfo.__dataclass_fields__
)


def link_info(row: Row[Any]) -> LinkInfo:
    """A row of ``links_query`` as a ``LinkInfo``."""
    values: tuple[Any, ...] = tuple(row)
    return LinkInfo(*values)


def note_seen(session: Session, system: str, updates: Sequence[SeenUpdate], now: datetime) -> None:
    """Refresh what was last seen on existing links; note a change when the hash moved."""
    latest = {u.remote_id: u for u in updates}
    known = links_by_remote_id(session, system, list(latest))
    if not known:
        return
    at = session_time(session, now)  # once, not once per row
    params = [
        (
            at,
            seen.content_hash,
            seen.raw_status_code,
            seen.raw_status_label,
            normal_ticket(seen.ticket),
            lid,
        )
        for seen, (lid, _cid, _old) in ((latest[r], link) for r, link in known.items())
    ]
    _SEEN.run(session, params)
    set_statuses(session, [(cid, latest[r].status) for r, (_l, cid, _o) in known.items()])
    add_events(session, _changed_events(system, latest, known, now))


_SEEN = Prepared(
    ("now", "hash", "code", "label", "ticket", "lid"),
    lambda _dialect: (
        update(LINK)
        .where(LINK.c.id == bindparam("lid"))
        .values(
            last_seen_hash=bindparam("hash"),
            raw_status_code=bindparam("code"),
            raw_status_label=bindparam("label"),
            seen_at=bindparam("now", type_=LINK.c.seen_at.type),
            updated_at=bindparam("now", type_=LINK.c.updated_at.type),
            # A record seen without its ticket keeps the one it showed before.
            ticket=func.coalesce(bindparam("ticket", type_=LINK.c.ticket.type), LINK.c.ticket),
        )
    ),
)


def links_by_remote_id(
    session: Session, system: str, remote_ids: Sequence[str]
) -> dict[str, tuple[int, int, str | None]]:
    """remote id → (link id, complaint id, last seen hash) for existing links."""
    found: dict[str, tuple[int, int, str | None]] = {}
    for part in chunks(sorted(set(remote_ids))):
        rows = _BY_REMOTE_ID.rows(session, (system,), part)
        found.update({rid: (lid, cid, old) for rid, lid, cid, old in rows})
    return found


_OF = Prepared(
    ("ref", "system"),
    lambda _dialect: links_query().where(
        COMPLAINT.c.ref == bindparam("ref"), LINK.c.system == bindparam("system")
    ),
)
_BY_REMOTE = PreparedIn(
    ("system",),
    lambda _dialect, remote_ids: links_query().where(
        LINK.c.system == bindparam("system"), LINK.c.remote_id.in_(remote_ids)
    ),
)
_BY_REMOTE_ROUTE = PreparedIn(
    ("route", "system"),
    lambda _dialect, remote_ids: links_query(bindparam("route")).where(
        LINK.c.system == bindparam("system"), LINK.c.remote_id.in_(remote_ids)
    ),
)
_BY_REMOTE_ID = PreparedIn(
    ("system",),
    lambda _dialect, remote_ids: select(
        LINK.c.remote_id, LINK.c.id, LINK.c.complaint_id, LINK.c.last_seen_hash
    ).where(LINK.c.system == bindparam("system"), LINK.c.remote_id.in_(remote_ids)),
)


def _changed_events(
    system: str,
    latest: Mapping[str, SeenUpdate],
    known: Mapping[str, tuple[int, int, str | None]],
    now: datetime,
) -> Iterable[dict[str, Any]]:
    for remote_id, (_lid, cid, old) in known.items():
        seen = latest[remote_id]
        if seen.content_hash == old:
            continue
        # Keyed by the (old → new) hashes: replaying the same observation is the
        # same change. (A record flipping A→B→A→B records the second A→B once.)
        key = f"changed:{system}:{(old or '-')[:16]}:{seen.content_hash[:16]}"
        detail = {
            "remote_id": remote_id,
            "raw_status_code": seen.raw_status_code,
            "raw_status_label": seen.raw_status_label,
        }
        yield event_row(cid, key, now, None, "complaint.changed", system, detail)
