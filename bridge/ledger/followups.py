"""Follow-ups: one identity per content fingerprint, and a copy row per system.

A follow-up seen on a system is "done" there, so it is never written back to it
(no echo); a follow-up being written is "started" first, so a lost response is
found again by its fingerprint instead of being posted twice (TRAPS.md).
The rows and reads behind them are in ``bridge.ledger.followup_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.followup_rows import (
    copy_row,
    fingerprint_ids,
    followup_row,
    of_refs,
    open_attempts,
    require_fingerprints,
    unclaimed,
)
from bridge.ledger.sql import require_ids, storable, upsert
from bridge.ledger.tables import COMPLAINT, FOLLOWUP, FOLLOWUP_COPY
from bridge.ledger.types import COPY_DONE, COPY_STARTED, FollowupInfo
from bridge.privacy import scrub_text

# Same bound as a create's error text (bridge.ledger.creates).
_ERROR_LIMIT = 1000

Seen = Sequence[tuple[str, str | None]]


class Followups:
    """Follow-ups and their copy in each system: ``ledger.followups``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def of(self, refs: Sequence[str]) -> dict[str, list[FollowupInfo]]:
        """ref → its follow-ups, first seen first; every asked ref is a key ([] if none)."""
        with self._db.read() as session:
            return of_refs(session, refs)

    def note(self, ref: str, system: str, seen: Seen) -> list[str]:
        """(fingerprint, remote id) seen on ``system`` are done there; returns the new ones.

        A fingerprint first seen here has ``system`` as its origin. Calling again with
        the same observations changes nothing and returns [].
        """
        with self._db.write() as session:
            return note(session, ref, system, seen, self._db.clock())

    def record_intents(
        self, route: str, ref: str, fingerprints: Sequence[str], target_system: str
    ) -> None:
        """Commit the intent to copy, before the remote call (a done copy stays done)."""
        with self._db.route_write(route) as session:
            record_intents(session, route, ref, fingerprints, target_system, self._db.clock())

    def complete(self, route: str, ref: str, target_system: str, results: Seen) -> None:
        """(fingerprint, remote id or None) written to ``target_system``: those copies are done."""
        with self._db.route_write(route) as session:
            complete(session, route, ref, target_system, results, self._db.clock())

    def fail(self, route: str, ref: str, fingerprint: str, target_system: str, error: str) -> None:
        """Remember why a copy failed; it stays started, to be looked up and retried."""
        with self._db.route_write(route) as session:
            fail(session, route, ref, fingerprint, target_system, error, self._db.clock())

    def pending(self, ref: str, target_system: str) -> list[str]:
        """Fingerprints whose copy to ``target_system`` was started and is not done."""
        query = (
            select(FOLLOWUP.c.fingerprint)
            .join(COMPLAINT, COMPLAINT.c.id == FOLLOWUP.c.complaint_id)
            .join(FOLLOWUP_COPY, FOLLOWUP_COPY.c.followup_id == FOLLOWUP.c.id)
            .where(
                COMPLAINT.c.ref == ref,
                FOLLOWUP_COPY.c.system == target_system,
                FOLLOWUP_COPY.c.state == COPY_STARTED,
            )
            .order_by(FOLLOWUP.c.id)
        )
        with self._db.read() as session:
            return list(session.scalars(query))


def note(session: Session, ref: str, system: str, seen: Seen, now: datetime) -> list[str]:
    """Follow-ups observed on ``system`` are done there; returns the ones new to the ledger."""
    cid = require_ids(session, [ref])[ref]
    # An identical follow-up repeated by the system is the same one: first id wins.
    latest = dict(reversed(seen))
    order = list(dict.fromkeys(fp for fp, _ in seen))
    known = set(fingerprint_ids(session, cid, order))
    new = [fp for fp in order if fp not in known]
    rows = [followup_row(cid, fp, system, latest[fp], now) for fp in new]
    upsert(session, FOLLOWUP, rows, keys=("complaint_id", "fingerprint"))
    ids = fingerprint_ids(session, cid, order)
    remote = unclaimed(session, system, {ids[fp]: latest[fp] for fp in order})
    copies = [copy_row(fid, system, remote[fid], COPY_DONE, 0, now) for fid in remote]
    # A remote id once known is kept: a system showing the same follow-up under
    # another id later must not make the copy flip between the two.
    upsert(
        session,
        FOLLOWUP_COPY,
        copies,
        keys=("followup_id", "system"),
        set_=lambda new_row: {
            "state": COPY_DONE,
            "remote_id": func.coalesce(FOLLOWUP_COPY.c.remote_id, new_row.remote_id),
            "last_error": None,
            "updated_at": new_row.updated_at,
        },
    )
    add_events(session, (_noted_event(cid, fp, system, latest[fp], now) for fp in new))
    return new


def record_intents(
    session: Session,
    route: str,
    ref: str,
    fingerprints: Sequence[str],
    target: str,
    now: datetime,
) -> None:
    """Copies to ``target`` are started, before the remote call; a done copy stays done."""
    cid = require_ids(session, [ref])[ref]
    ids = require_fingerprints(session, cid, ref, fingerprints)
    rows = [copy_row(fid, target, None, COPY_STARTED, 1, now) for fid in ids.values()]
    upsert(
        session,
        FOLLOWUP_COPY,
        rows,
        keys=("followup_id", "system"),
        copy=("state", "updated_at"),
        set_={"attempts": FOLLOWUP_COPY.c.attempts + 1},
        where=FOLLOWUP_COPY.c.state != COPY_DONE,
    )
    attempts = open_attempts(session, target, list(ids.values()))
    add_events(
        session,
        (
            event_row(
                cid,
                event_key("followup", fp, target, "intent", str(attempts[fid])),
                now,
                route,
                "followup.intent",
                target,
                {"fingerprint": fp, "attempt": attempts[fid]},
            )
            for fp, fid in ids.items()
            if fid in attempts
        ),
    )


def complete(
    session: Session, route: str, ref: str, target: str, results: Seen, now: datetime
) -> None:
    """Copies written to ``target`` are done, with the remote id when it answered one."""
    cid = require_ids(session, [ref])[ref]
    answered = dict(reversed(results))
    ids = require_fingerprints(session, cid, ref, list(answered))
    remote = unclaimed(session, target, {ids[fp]: rid for fp, rid in answered.items()})
    rows = [copy_row(fid, target, rid, COPY_DONE, 1, now) for fid, rid in remote.items()]
    upsert(
        session,
        FOLLOWUP_COPY,
        rows,
        keys=("followup_id", "system"),
        set_=lambda new_row: {
            "state": COPY_DONE,
            "remote_id": func.coalesce(new_row.remote_id, FOLLOWUP_COPY.c.remote_id),
            "last_error": None,
            "updated_at": new_row.updated_at,
        },
    )
    add_events(session, (_copied_event(cid, route, fp, target, remote[ids[fp]], now) for fp in ids))


def fail(
    session: Session,
    route: str,
    ref: str,
    fingerprint: str,
    target: str,
    error: str,
    now: datetime,
) -> None:
    """Remember why a copy failed; it stays started, so the engine tries again."""
    cid = require_ids(session, [ref])[ref]
    fid = require_fingerprints(session, cid, ref, [fingerprint])[fingerprint]
    message = storable(scrub_text(error), _ERROR_LIMIT)
    row = copy_row(fid, target, None, COPY_STARTED, 1, now) | {"last_error": message}
    upsert(
        session,
        FOLLOWUP_COPY,
        [row],
        keys=("followup_id", "system"),
        copy=("last_error", "updated_at"),
        where=FOLLOWUP_COPY.c.state != COPY_DONE,
    )
    attempt = open_attempts(session, target, [fid]).get(fid, 0)
    key = event_key("followup", fingerprint, target, "failed", str(attempt))
    detail = {"fingerprint": fingerprint, "attempt": attempt, "error": message}
    add_events(session, [event_row(cid, key, now, route, "followup.copy_failed", target, detail)])


def _noted_event(
    cid: int, fingerprint: str, system: str, remote_id: str | None, now: datetime
) -> dict[str, Any]:
    detail = {"fingerprint": fingerprint, "remote_id": remote_id}
    key = event_key("followup", fingerprint, "noted")
    return event_row(cid, key, now, None, "followup.noted", system, detail)


def _copied_event(
    cid: int, route: str, fingerprint: str, target: str, remote_id: str | None, now: datetime
) -> dict[str, Any]:
    detail = {"fingerprint": fingerprint, "remote_id": remote_id}
    key = event_key("followup", fingerprint, target, "copied")
    return event_row(cid, key, now, route, "followup.copied", target, detail)
