"""History lines: how every concept appends an event to a complaint's history.

Every event carries an idempotency key, unique per complaint: a retried call never
appends the same line twice (TRAPS.md). Reading the history back is
``bridge.ledger.history``'s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.ledger.sql import upsert
from bridge.ledger.tables import EVENT


def add_events(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append history lines; one whose key is already there is the same step retried."""
    upsert(session, EVENT, list(rows), keys=("complaint_id", "key"))


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
