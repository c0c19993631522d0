"""Review flags: what a person must look at, apart from the quarantine of unreadable records.

A flagged complaint still syncs; the flag is counted per (route, ref, system,
kind), so a problem seen every cycle is one flag with a count, not a flood.
``open_count`` runs inside the caller's transaction, for ``bridge status``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.sql import complaint_ids, storable, upsert
from bridge.ledger.tables import REVIEW
from bridge.ledger.types import ReviewInfo
from bridge.privacy import redact_record, scrub_text


class Reviews:
    """Flags for a person to look at: ``ledger.reviews``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def flag(
        self,
        route: str,
        ref: str,
        system: str,
        kind: str,
        reason: str,
        detail: Mapping[str, Any],
    ) -> None:
        """Ask a person to look (``detail`` without personal data); again counts one more.

        A resolved flag seen again is re-opened.
        """
        key = _key(route, ref, system, kind)
        now = self._db.clock()
        masked = scrub_text(reason)
        row = {
            "route": route,
            "ref": ref,
            "system": system,
            "kind": kind,
            # Masked at rest: a reason may quote what a system sent (a phone, a token, a NUL).
            "reason": storable(masked),
            "detail": json.dumps(redact_record(detail), sort_keys=True, default=str),
            "first_seen": now,
            "last_seen": now,
            "count": 1,
            "resolved": False,
        }
        with self._db.route_write(route) as session:
            before = session.execute(select(REVIEW.c.resolved).where(*key)).first()
            upsert(
                session,
                REVIEW,
                [row],
                keys=("route", "ref", "system", "kind"),
                copy=("reason", "detail", "last_seen", "resolved"),
                set_={"count": REVIEW.c.count + 1},
            )
            if before is None or before.resolved:
                count = session.scalar(select(REVIEW.c.count).where(*key)) or 1
                _history(session, route, ref, system, kind, "flagged", count, now, masked)

    def listed(
        self, route: str | None = None, *, include_resolved: bool = False
    ) -> list[ReviewInfo]:
        """The open flags (of ``route``; resolved ones too if asked), oldest sighting first."""
        query = select(REVIEW).order_by(REVIEW.c.route, REVIEW.c.last_seen, REVIEW.c.id)
        if route is not None:
            query = query.where(REVIEW.c.route == route)
        if not include_resolved:
            query = query.where(REVIEW.c.resolved.is_(False))
        with self._db.read() as session:
            return [_review(row) for row in session.execute(query)]

    def resolve(self, route: str, ref: str, system: str, kind: str) -> None:
        """A person looked: the flag is closed (and re-opened if the problem comes back)."""
        key = _key(route, ref, system, kind)
        with self._db.route_write(route) as session:
            open_ = select(REVIEW.c.count).where(*key, REVIEW.c.resolved.is_(False))
            count = session.scalar(open_)
            if count is None:
                return
            session.execute(update(REVIEW).where(*key).values(resolved=True))
            _history(session, route, ref, system, kind, "resolved", count, self._db.clock(), None)

    def by_ids(self, ids: list[int]) -> list[ReviewInfo]:
        """The flags with these ids (open or resolved), in id order; unknown ids are left out."""
        query = select(REVIEW).where(REVIEW.c.id.in_(ids)).order_by(REVIEW.c.id)
        with self._db.read() as session:
            return [_review(row) for row in session.execute(query)]


def open_count(session: Session, route: str) -> int:
    query = select(func.count()).where(REVIEW.c.route == route, REVIEW.c.resolved.is_(False))
    return session.scalar(query) or 0


def _key(route: str, ref: str, system: str, kind: str) -> tuple[Any, ...]:
    c = REVIEW.c
    return (c.route == route, c.ref == ref, c.system == system, c.kind == kind)


def _history(
    session: Session,
    route: str,
    ref: str,
    system: str,
    kind: str,
    step: str,
    count: int,
    now: datetime,
    reason: str | None,
) -> None:
    """A history line, when the flag is about a complaint the ledger holds."""
    cid = complaint_ids(session, [ref]).get(ref)
    if cid is None:
        return
    # Keyed by the sighting count, so a re-opened flag gets a line of its own.
    key = event_key("review", route, system, kind, step, str(count))
    detail = {"kind": kind, "reason": reason} if reason else {"kind": kind}
    add_events(session, [event_row(cid, key, now, route, f"review.{step}", system, detail)])


def _review(row: Row[Any]) -> ReviewInfo:
    return ReviewInfo(
        id=row.id,
        route=row.route,
        ref=row.ref,
        system=row.system,
        kind=row.kind,
        reason=row.reason,
        detail=row.detail,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        count=row._mapping["count"],  # `row.count` is the tuple method
        resolved=row.resolved,
    )
