"""Follow-ups: one identity per content fingerprint, and a copy row per system.

A follow-up seen on a system is "done" there, so it is never written back to it
(no echo); a follow-up being written is "started" first, so a lost response is
found again by its fingerprint instead of being posted twice (TRAPS.md).
Functions run inside the caller's transaction (see ``bridge.ledger.writes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from bridge.ledger.failures import LedgerConflict
from bridge.ledger.sql import chunks, complaint_ids, require_ids, storable, upsert
from bridge.ledger.tables import COMPLAINT, FOLLOWUP, FOLLOWUP_COPY
from bridge.ledger.types import COPY_DONE, COPY_STARTED, FollowupCopyInfo, FollowupInfo
from bridge.ledger.writes import add_events, event_key, event_row

# Same bound as a create's error text (bridge.ledger.creates).
_ERROR_LIMIT = 1000

Seen = Sequence[tuple[str, str | None]]


def note(session: Session, ref: str, system: str, seen: Seen, now: datetime) -> list[str]:
    """Follow-ups observed on ``system`` are done there; returns the ones new to the ledger."""
    cid = require_ids(session, [ref])[ref]
    # An identical follow-up repeated by the system is the same one: first id wins.
    latest = dict(reversed(seen))
    order = list(dict.fromkeys(fp for fp, _ in seen))
    known = set(_ids(session, cid, order))
    new = [fp for fp in order if fp not in known]
    rows = [_followup_row(cid, fp, system, latest[fp], now) for fp in new]
    upsert(session, FOLLOWUP, rows, keys=("complaint_id", "fingerprint"))
    ids = _ids(session, cid, order)
    remote = _unclaimed(session, system, {ids[fp]: latest[fp] for fp in order})
    copies = [_copy_row(fid, system, remote[fid], COPY_DONE, 0, now) for fid in remote]
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
    ids = _require(session, cid, ref, fingerprints)
    rows = [_copy_row(fid, target, None, COPY_STARTED, 1, now) for fid in ids.values()]
    upsert(
        session,
        FOLLOWUP_COPY,
        rows,
        keys=("followup_id", "system"),
        copy=("state", "updated_at"),
        set_={"attempts": FOLLOWUP_COPY.c.attempts + 1},
        where=FOLLOWUP_COPY.c.state != COPY_DONE,
    )
    attempts = _open_attempts(session, target, list(ids.values()))
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
    ids = _require(session, cid, ref, list(answered))
    remote = _unclaimed(session, target, {ids[fp]: rid for fp, rid in answered.items()})
    rows = [_copy_row(fid, target, rid, COPY_DONE, 1, now) for fid, rid in remote.items()]
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
    fid = _require(session, cid, ref, [fingerprint])[fingerprint]
    message = storable(error, _ERROR_LIMIT)
    row = _copy_row(fid, target, None, COPY_STARTED, 1, now) | {"last_error": message}
    upsert(
        session,
        FOLLOWUP_COPY,
        [row],
        keys=("followup_id", "system"),
        copy=("last_error", "updated_at"),
        where=FOLLOWUP_COPY.c.state != COPY_DONE,
    )
    attempt = _open_attempts(session, target, [fid]).get(fid, 0)
    key = event_key("followup", fingerprint, target, "failed", str(attempt))
    detail = {"fingerprint": fingerprint, "attempt": attempt, "error": message}
    add_events(session, [event_row(cid, key, now, route, "followup.copy_failed", target, detail)])


def pending(session: Session, ref: str, target: str) -> list[str]:
    """Fingerprints whose copy to ``target`` was started and is not known to be done."""
    query = (
        select(FOLLOWUP.c.fingerprint)
        .join(COMPLAINT, COMPLAINT.c.id == FOLLOWUP.c.complaint_id)
        .join(FOLLOWUP_COPY, FOLLOWUP_COPY.c.followup_id == FOLLOWUP.c.id)
        .where(
            COMPLAINT.c.ref == ref,
            FOLLOWUP_COPY.c.system == target,
            FOLLOWUP_COPY.c.state == COPY_STARTED,
        )
        .order_by(FOLLOWUP.c.id)
    )
    return list(session.scalars(query))


def of_refs(session: Session, refs: Sequence[str]) -> dict[str, list[FollowupInfo]]:
    """ref → its follow-ups in the order first seen; every asked ref is a key."""
    ids = complaint_ids(session, refs)
    by_id = of_complaints(session, list(ids.values()))
    return {ref: by_id.get(ids[ref], []) if ref in ids else [] for ref in refs}


def of_complaints(session: Session, cids: Sequence[int]) -> dict[int, list[FollowupInfo]]:
    """complaint id → its follow-ups with their copies, in the order first seen."""
    rows: list[Row[Any]] = []
    for part in chunks(sorted(set(cids))):
        rows.extend(session.execute(_followups_query().where(FOLLOWUP.c.complaint_id.in_(part))))
    grouped: dict[int, dict[int, list[Row[Any]]]] = {}
    for row in rows:
        grouped.setdefault(row.complaint_id, {}).setdefault(row.followup_id, []).append(row)
    return {
        cid: [_followup(group) for _fid, group in sorted(followups.items())]
        for cid, followups in grouped.items()
    }


def _followups_query() -> Any:
    copy = FOLLOWUP_COPY.c
    return (
        select(
            FOLLOWUP.c.complaint_id,
            FOLLOWUP.c.id.label("followup_id"),
            FOLLOWUP.c.fingerprint,
            FOLLOWUP.c.origin_system,
            FOLLOWUP.c.origin_id,
            FOLLOWUP.c.created_at,
            copy.system,
            copy.remote_id,
            copy.state,
            copy.attempts,
            copy.last_error,
        )
        .outerjoin(FOLLOWUP_COPY, copy.followup_id == FOLLOWUP.c.id)
        .order_by(FOLLOWUP.c.id, copy.system)
    )


def _followup(rows: Sequence[Row[Any]]) -> FollowupInfo:
    first = rows[0]
    copies = {
        r.system: FollowupCopyInfo(r.system, r.remote_id, r.state, r.attempts, r.last_error)
        for r in rows
        if r.system is not None
    }
    return FollowupInfo(
        fingerprint=first.fingerprint,
        origin_system=first.origin_system,
        origin_id=first.origin_id,
        created_at=first.created_at,
        copies=copies,
    )


def _ids(session: Session, cid: int, fingerprints: Sequence[str]) -> dict[str, int]:
    """fingerprint → follow-up id, for those of the complaint the ledger knows."""
    found: dict[str, int] = {}
    for part in chunks(sorted(set(fingerprints))):
        query = select(FOLLOWUP.c.fingerprint, FOLLOWUP.c.id).where(
            FOLLOWUP.c.complaint_id == cid, FOLLOWUP.c.fingerprint.in_(part)
        )
        found.update(session.execute(query).all())
    return found


def _require(session: Session, cid: int, ref: str, fingerprints: Sequence[str]) -> dict[str, int]:
    """Like ``_ids``, in the caller's order, but every fingerprint must be known."""
    found = _ids(session, cid, fingerprints)
    missing = [fp for fp in fingerprints if fp not in found]
    if missing:
        raise LedgerConflict(
            f"complaint {ref!r} has no follow-up {missing[0]!r} ({len(missing)} unknown); "
            "note_followups must come before copying a follow-up"
        )
    return {fp: found[fp] for fp in dict.fromkeys(fingerprints)}


def _unclaimed(
    session: Session, system: str, wanted: Mapping[int, str | None]
) -> dict[int, str | None]:
    """follow-up id → remote id, or None where another follow-up already holds that id.

    A follow-up edited on its system keeps its remote id under a new fingerprint;
    refusing the id there (rather than failing on the unique constraint) lets the
    edit sync as a new follow-up instead of stopping the route.
    """
    asked = sorted({rid for rid in wanted.values() if rid is not None})
    owner: dict[str, int] = {}
    for part in chunks(asked):
        query = select(FOLLOWUP_COPY.c.remote_id, FOLLOWUP_COPY.c.followup_id).where(
            FOLLOWUP_COPY.c.system == system, FOLLOWUP_COPY.c.remote_id.in_(part)
        )
        owner.update(session.execute(query).all())
    granted: dict[int, str | None] = {}
    for fid, rid in wanted.items():
        if rid is not None and owner.setdefault(rid, fid) != fid:
            rid = None
        granted[fid] = rid
    return granted


def _open_attempts(session: Session, system: str, fids: Sequence[int]) -> dict[int, int]:
    """follow-up id → attempts, for copies to ``system`` that are not done."""
    found: dict[int, int] = {}
    for part in chunks(sorted(set(fids))):
        query = select(FOLLOWUP_COPY.c.followup_id, FOLLOWUP_COPY.c.attempts).where(
            FOLLOWUP_COPY.c.system == system,
            FOLLOWUP_COPY.c.state != COPY_DONE,
            FOLLOWUP_COPY.c.followup_id.in_(part),
        )
        found.update(session.execute(query).all())
    return found


def _followup_row(
    cid: int, fingerprint: str, system: str, remote_id: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "complaint_id": cid,
        "fingerprint": fingerprint,
        "origin_system": system,
        "origin_id": remote_id,
        "created_at": now,
    }


def _copy_row(
    fid: int, system: str, remote_id: str | None, state: str, attempts: int, now: datetime
) -> dict[str, Any]:
    return {
        "followup_id": fid,
        "system": system,
        "remote_id": remote_id,
        "state": state,
        "attempts": attempts,
        "last_error": None,
        "updated_at": now,
    }


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
