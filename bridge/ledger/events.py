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
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from bridge.ledger.prepared import Prepared, insert, stored_time
from bridge.ledger.tables import EVENT

_COLUMNS = ("complaint_id", "key", "at", "route", "kind", "system", "detail")
_VALUES = itemgetter(*_COLUMNS)
# json.dumps(detail, sort_keys=True), the very same text, without a new encoder per line.
_DETAIL = json.JSONEncoder(sort_keys=True)
_ADD = Prepared(
    _COLUMNS,
    lambda dialect: insert(dialect, EVENT).on_conflict_do_nothing(
        index_elements=["complaint_id", "key"]
    ),
)


def add_events(session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append history lines; one whose key is already there is the same step retried."""
    dialect = session.get_bind().dialect.name
    times: dict[datetime, Any] = {}  # a page's lines mostly share one time: converted once
    params = []
    for row in rows:
        cid, key, at, *rest = _VALUES(row)
        if at not in times:
            times[at] = stored_time(dialect, at)
        params.append((cid, key, times[at], *rest))
    if params:
        _ADD.run(session, params)


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
        "detail": _DETAIL.encode(detail),
    }
