"""Observations, cursors, quarantine and history: bulk writes in the caller's transaction.

Each function takes an open ``Session`` whose transaction the ``Ledger`` commits,
so that one API call (or one page, with ``complete_page``) is one transaction.
Every write is an upsert under a unique constraint and every event carries an
idempotency key: a retried call never appends the same rows twice (TRAPS.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from bridge.ledger.sql import chunks, storable, upsert
from bridge.ledger.tables import COMPLAINT, CURSOR, EVENT, LINK, QUARANTINE
from bridge.ledger.types import SeenUpdate, SetAside


def note_seen(session: Session, system: str, updates: Sequence[SeenUpdate], now: datetime) -> None:
    """Refresh what was last seen on existing links; note a change when the hash moved."""
    latest = {u.remote_id: u for u in updates}
    known = links_by_remote_id(session, system, list(latest))
    if not known:
        return
    params = [
        {
            "lid": lid,
            "hash": seen.content_hash,
            "code": seen.raw_status_code,
            "label": seen.raw_status_label,
        }
        for seen, (lid, _cid, _old) in ((latest[r], link) for r, link in known.items())
    ]
    session.execute(
        update(LINK)
        .where(LINK.c.id == bindparam("lid"))
        .values(
            last_seen_hash=bindparam("hash"),
            raw_status_code=bindparam("code"),
            raw_status_label=bindparam("label"),
            seen_at=now,
            updated_at=now,
        ),
        params,
    )
    set_statuses(session, [(cid, latest[r].status) for r, (_l, cid, _o) in known.items()])
    add_events(session, _changed_events(system, latest, known, now))


def set_cursor(session: Session, route: str, system: str, value: str, now: datetime) -> None:
    row = {"route": route, "system": system, "value": value, "updated_at": now}
    upsert(session, CURSOR, [row], keys=("route", "system"), copy=("value", "updated_at"))


# quarantine.source_id and quarantine.field are VARCHAR(200).
_ID_LIMIT = 200


def set_aside(session: Session, route: str, items: Sequence[SetAside], now: datetime) -> None:
    """Quarantine records; a record already set aside counts one more attempt."""
    # A reason or a record may quote what the source sent (a NUL, an overlong field):
    # escaped and cut, so that setting a record aside can never fail.
    rows = [
        {
            "route": route,
            "system": i.system,
            "source_id": storable(i.source_id, _ID_LIMIT),
            "reason": storable(i.reason),
            "field": None if i.field is None else storable(i.field, _ID_LIMIT),
            "attempts": 1,
            "record_json": storable(i.record_json),
            "first_seen": now,
            "last_seen": now,
        }
        for i in {(i.system, i.source_id): i for i in items}.values()
    ]
    upsert(
        session,
        QUARANTINE,
        rows,
        keys=("route", "system", "source_id"),
        copy=("reason", "field", "record_json", "last_seen"),
        # Set aside again: whatever retry was asked for has now been tried.
        set_={"attempts": QUARANTINE.c.attempts + 1, "retry_requested_at": None},
    )


def release(session: Session, route: str, keys: Sequence[tuple[str, str]]) -> None:
    """Take records out of quarantine: they went through."""
    if not keys:
        return
    session.execute(
        delete(QUARANTINE).where(
            QUARANTINE.c.route == route,
            QUARANTINE.c.system == bindparam("system"),
            QUARANTINE.c.source_id == bindparam("source_id"),
        ),
        [{"system": system, "source_id": source_id} for system, source_id in keys],
    )


def add_events(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append history lines; one whose key is already there is the same step retried."""
    upsert(session, EVENT, list(rows), keys=("complaint_id", "key"))


def links_by_remote_id(
    session: Session, system: str, remote_ids: Sequence[str]
) -> dict[str, tuple[int, int, str | None]]:
    """remote id → (link id, complaint id, last seen hash) for existing links."""
    found: dict[str, tuple[int, int, str | None]] = {}
    for part in chunks(sorted(set(remote_ids))):
        query = select(
            LINK.c.remote_id, LINK.c.id, LINK.c.complaint_id, LINK.c.last_seen_hash
        ).where(LINK.c.system == system, LINK.c.remote_id.in_(part))
        found.update({rid: (lid, cid, old) for rid, lid, cid, old in session.execute(query)})
    return found


def set_statuses(session: Session, pairs: Sequence[tuple[int, str | None]]) -> None:
    """Store a normalised status where the caller knows one; None leaves it as it was."""
    params = [{"cid": cid, "status": status} for cid, status in dict(pairs).items() if status]
    if params:
        session.execute(
            update(COMPLAINT)
            .where(COMPLAINT.c.id == bindparam("cid"))
            .values(status=bindparam("status")),
            params,
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


def link_row(
    cid: int, system: str, remote_id: str, seen_hash: str, now: datetime
) -> dict[str, Any]:
    return {
        "complaint_id": cid,
        "system": system,
        "remote_id": remote_id,
        "last_seen_hash": seen_hash,
        "seen_at": now,
        "updated_at": now,
    }


# EventRow.key is VARCHAR(200); keys built from caller-given names are kept within it.
_KEY_LIMIT = 200


def event_key(*parts: str) -> str:
    """An event key from its parts; too long a key keeps its head and a digest of the whole.

    The digest keeps two long keys that share a head apart, so no step is lost.
    """
    key = ":".join(parts)
    if len(key) <= _KEY_LIMIT:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: _KEY_LIMIT - 33]}#{digest}"


def event_row(
    cid: int,
    key: str,
    at: datetime,
    route: str | None,
    kind: str,
    system: str | None,
    detail: Mapping[str, object],
) -> dict[str, Any]:
    return {
        "complaint_id": cid,
        "key": key,
        "at": at,
        "route": route,
        "kind": kind,
        "system": system,
        "detail": json.dumps(detail, sort_keys=True),
    }
