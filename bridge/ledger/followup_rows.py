"""The follow-ups' rows: identities by fingerprint, copies per system, and reading them back.

Shared by the writes of ``bridge.ledger.followups`` and by the complaint trace of
``bridge.ledger.history``; every function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.ledger.failures import LedgerConflict
from bridge.ledger.prepared import PreparedIn
from bridge.ledger.sql import chunks
from bridge.ledger.tables import COMPLAINT, FOLLOWUP, FOLLOWUP_COPY
from bridge.ledger.types import COPY_DONE, FollowupCopyInfo, FollowupInfo


def of_refs(session: Session, refs: Sequence[str]) -> dict[str, list[FollowupInfo]]:
    """ref → its follow-ups in the order first seen; every asked ref is a key."""
    found: dict[str, list[_Row]] = {}
    for part in chunks(sorted(set(refs))):
        for *row, ref in _OF_REFS.rows(session, (), part):
            found.setdefault(ref, []).append(_Row(*row))
    by_ref = {ref: _grouped(rows) for ref, rows in found.items()}
    return {ref: by_ref.get(ref, []) for ref in refs}


def of_complaints(session: Session, cids: Sequence[int]) -> dict[int, list[FollowupInfo]]:
    """complaint id → its follow-ups with their copies, in the order first seen."""
    rows: list[_Row] = []
    for part in chunks(sorted(set(cids))):
        rows.extend(_Row(*row) for row in _OF_COMPLAINTS.rows(session, (), part))
    by_complaint: dict[int, list[_Row]] = {}
    for row in rows:
        by_complaint.setdefault(row.complaint_id, []).append(row)
    return {cid: _grouped(found) for cid, found in by_complaint.items()}


def _grouped(rows: Sequence[_Row]) -> list[FollowupInfo]:
    """One complaint's rows as its follow-ups, in the order first seen."""
    by_followup: dict[int, list[_Row]] = {}
    for row in rows:
        by_followup.setdefault(row.followup_id, []).append(row)
    return [_followup(group) for _fid, group in sorted(by_followup.items())]


class _Row(NamedTuple):
    """One row of ``_followups_query``: a follow-up with one of its copies (or none)."""

    complaint_id: int
    followup_id: int
    fingerprint: str
    origin_system: str
    origin_id: str | None
    created_at: datetime
    system: str | None
    remote_id: str | None
    state: str
    attempts: int
    last_error: str | None


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


_OF_REFS = PreparedIn(
    (),
    lambda _dialect, refs: (
        _followups_query()
        .add_columns(COMPLAINT.c.ref)
        .join(COMPLAINT, COMPLAINT.c.id == FOLLOWUP.c.complaint_id)
        .where(COMPLAINT.c.ref.in_(refs))
    ),
)
_OF_COMPLAINTS = PreparedIn(
    (), lambda _dialect, cids: _followups_query().where(FOLLOWUP.c.complaint_id.in_(cids))
)


def _followup(rows: Sequence[_Row]) -> FollowupInfo:
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


def fingerprint_ids(session: Session, cid: int, fingerprints: Sequence[str]) -> dict[str, int]:
    """fingerprint → follow-up id, for those of the complaint the ledger knows."""
    found: dict[str, int] = {}
    for part in chunks(sorted(set(fingerprints))):
        query = select(FOLLOWUP.c.fingerprint, FOLLOWUP.c.id).where(
            FOLLOWUP.c.complaint_id == cid, FOLLOWUP.c.fingerprint.in_(part)
        )
        found.update(session.execute(query).all())
    return found


def require_fingerprints(
    session: Session, cid: int, ref: str, fingerprints: Sequence[str]
) -> dict[str, int]:
    """Like ``fingerprint_ids``, in the caller's order, but every fingerprint must be known."""
    found = fingerprint_ids(session, cid, fingerprints)
    missing = [fp for fp in fingerprints if fp not in found]
    if missing:
        raise LedgerConflict(
            f"complaint {ref!r} has no follow-up {missing[0]!r} ({len(missing)} unknown); "
            "followups.note must come before copying a follow-up"
        )
    return {fp: found[fp] for fp in dict.fromkeys(fingerprints)}


def unclaimed(
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


def open_attempts(session: Session, system: str, fids: Sequence[int]) -> dict[int, int]:
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


def followup_row(
    cid: int, fingerprint: str, system: str, remote_id: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "complaint_id": cid,
        "fingerprint": fingerprint,
        "origin_system": system,
        "origin_id": remote_id,
        "created_at": now,
    }


def copy_row(
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
