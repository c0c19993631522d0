"""A route's cycles: their runs, their cursors, and the commit of each page.

Writes that belong together (a page's created links, what was seen, what was set
aside or released, and the cursor past them) go through ``complete_page`` in one
transaction, so the cursor never moves past a result the ledger does not hold
(TRAPS.md). Starting a cycle counts one more generation of the ledger in the same
transaction (``bridge.ledger.meta``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, insert, select, union, update
from sqlalchemy.orm import Session

from bridge.ledger import creates, links, meta, polls, quarantine, reviews, route_links
from bridge.ledger.base import Database
from bridge.ledger.sql import storable, upsert
from bridge.ledger.tables import CURSOR, CYCLE_RUN, PENDING_OP, QUARANTINE, REVIEW
from bridge.ledger.types import (
    CREATE,
    PENDING_DONE,
    PENDING_STARTED,
    CreateResult,
    CycleInfo,
    RouteStatus,
    SeenUpdate,
    SetAside,
)
from bridge.privacy import scrub_text


class Cycles:
    """Runs, cursors and page commits of every route: ``ledger.cycles``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._watcher: meta.CycleWatcher | None = None

    def cursor(self, route: str, system: str) -> str | None:
        """Where ``route`` last stopped reading ``system``; None before its first page."""
        query = select(CURSOR.c.value).where(CURSOR.c.route == route, CURSOR.c.system == system)
        with self._db.read() as session:
            return session.scalars(query).first()

    def set_cursor(self, route: str, system: str, value: str) -> None:
        with self._db.route_write(route) as session:
            _set_cursor(session, route, system, value, self._db.clock())

    def complete_page(
        self,
        route: str,
        results: Sequence[CreateResult] = (),
        cursor: tuple[str, str, str] | None = None,
        seen: Mapping[str, Sequence[SeenUpdate]] | None = None,
        set_aside: Sequence[SetAside] = (),
        released: Sequence[tuple[str, str]] = (),
        owed: tuple[str, Sequence[str]] | None = None,
    ) -> None:
        """Everything one page produced, in one transaction.

        ``cursor`` is ``(route, system, value)`` as for ``set_cursor``; ``seen`` maps a
        system to what was seen there; ``released`` lists ``(system, source_id)``
        taken out of quarantine; ``owed`` is ``(system, remote ids)`` whose change is
        yet to be carried over (follow-ups, status): they become due for a re-poll.
        """
        now = self._db.clock()
        with self._db.route_write(route) as session:
            creates.complete_creates(session, route, results, now)
            for system, updates in (seen or {}).items():
                links.note_seen(session, system, updates, now)
                route_links.note_seen(session, route, system, updates)
            quarantine.set_aside(session, route, set_aside, now)
            quarantine.release(session, route, released)
            if cursor is not None:
                cursor_route, system, value = cursor
                _set_cursor(session, cursor_route, system, value, now)
            if owed is not None:
                route_links.owe(session, route, owed[0], owed[1], polls.OWED)

    def start(self, route: str) -> int:
        """Record a cycle's start and count one more generation, in one transaction."""
        row = {"route": route, "started_at": self._db.clock(), "counts": "{}"}
        with self._db.write() as session:
            run_id: int = session.execute(
                insert(CYCLE_RUN).values(row).returning(CYCLE_RUN.c.id)
            ).scalar_one()
            seen = meta.next_generation(session)
        # After the commit: what is reported to the watcher is in the ledger for good.
        if self._watcher is not None:
            self._watcher(seen)
        return run_id

    def finish(
        self, run_id: int, *, ok: bool, counts: Mapping[str, int], error: str | None
    ) -> None:
        values = {
            "finished_at": self._db.clock(),
            "ok": ok,
            "counts": json.dumps(dict(counts), sort_keys=True),
            "error": None if error is None else storable(scrub_text(error)),
        }
        with self._db.write() as session:
            session.execute(update(CYCLE_RUN).where(CYCLE_RUN.c.id == run_id).values(values))

    def watch(self, watcher: meta.CycleWatcher | None) -> None:
        """Call ``watcher`` with the ledger's identity after every committed cycle start."""
        self._watcher = watcher

    def status(self, route: str) -> RouteStatus:
        """What ``bridge status`` shows of ``route``: its last run, counts and cursors."""
        with self._db.read() as session:
            return _route_status(session, route)

    def routes(self) -> list[str]:
        """Every route the ledger has heard of, in name order."""
        tables = (CYCLE_RUN, CURSOR, PENDING_OP, QUARANTINE, REVIEW)
        named = union(*(select(t.c.route) for t in tables))
        with self._db.read() as session:
            return sorted(session.scalars(named))


def _set_cursor(session: Session, route: str, system: str, value: str, now: datetime) -> None:
    row = {"route": route, "system": system, "value": value, "updated_at": now}
    upsert(session, CURSOR, [row], keys=("route", "system"), copy=("value", "updated_at"))


def _route_status(session: Session, route: str) -> RouteStatus:
    runs = select(CYCLE_RUN).where(CYCLE_RUN.c.route == route)
    last = session.execute(runs.order_by(CYCLE_RUN.c.id.desc()).limit(1)).first()
    success = select(func.max(CYCLE_RUN.c.finished_at)).where(
        CYCLE_RUN.c.route == route, CYCLE_RUN.c.ok.is_(True)
    )
    cursors = select(CURSOR.c.system, CURSOR.c.value).where(CURSOR.c.route == route)
    return RouteStatus(
        route=route,
        last_cycle=None if last is None else _cycle(last),
        last_success_at=session.scalar(success),
        linked=_count_ops(session, route, PENDING_DONE),
        pending_creates=_count_ops(session, route, PENDING_STARTED),
        quarantined=_count(session, select(QUARANTINE.c.id).where(QUARANTINE.c.route == route)),
        cursors=dict(session.execute(cursors).all()),
        reviews=reviews.open_count(session, route),
    )


def _count_ops(session: Session, route: str, state: str) -> int:
    query = select(PENDING_OP.c.id).where(
        PENDING_OP.c.kind == CREATE, PENDING_OP.c.route == route, PENDING_OP.c.state == state
    )
    return _count(session, query)


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _cycle(row: Row[Any]) -> CycleInfo:
    counts: Mapping[str, int] = json.loads(row.counts)
    return CycleInfo(
        run_id=row.id,
        started_at=row.started_at,
        finished_at=row.finished_at,
        ok=row.ok,
        counts=counts,
        error=row.error,
    )
