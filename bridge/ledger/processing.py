"""The record of processing read back: which complaints' personal fields left toward each system.

Read from the complaints' histories: every ``complaint.created`` line (with the
``complaint.intent`` line before it, which names the personal fields the copy carried and
whether the complaint was anonim or rahasia) and every ``followup.copied`` line. Ids and field
names only: the ledger holds no personal value to give.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select

from bridge.ledger.base import Database
from bridge.ledger.tables import COMPLAINT, EVENT

_CREATED = "complaint.created"
_INTENT = "complaint.intent"
_FOLLOWUP = "followup.copied"


@dataclass(frozen=True, slots=True)
class SentCopy:
    """One copy that left the bridge toward ``system``: a complaint or one of its follow-ups."""

    system: str
    ref: str
    remote_id: str | None
    at: datetime
    kind: str
    """``complaint`` or ``followup``."""
    personal: tuple[str, ...] = ()
    """Names of the personal fields the copy carried (complaints; a reply's text is free)."""
    anonymous: bool = False
    """An anonim complaint: it left with the reporter's identity removed."""
    secret: bool = False
    """A rahasia complaint (sent only to a system marked ``receives_confidential``)."""


def sent_since(db: Database, since: datetime) -> list[SentCopy]:
    """Copies that left toward any system at or after ``since``, oldest first."""
    query = (
        select(EVENT, COMPLAINT.c.ref)
        .join(COMPLAINT, COMPLAINT.c.id == EVENT.c.complaint_id)
        .where(EVENT.c.kind.in_((_CREATED, _INTENT, _FOLLOWUP)))
        .order_by(EVENT.c.at, EVENT.c.id)
    )
    intents: dict[tuple[int, str], dict[str, object]] = {}
    copies: list[SentCopy] = []
    with db.read() as session:
        for row in session.execute(query):
            detail = json.loads(row.detail or "{}")
            if row.kind == _INTENT:  # the last intent before the create is the one sent
                intents[(row.complaint_id, row.system)] = detail
                continue
            if _naive(row.at) < _naive(since):
                continue
            copies.append(_copy(row, detail, intents.get((row.complaint_id, row.system), {})))
    return copies


def _copy(row: Row[Any], detail: dict[str, object], intent: dict[str, object]) -> SentCopy:
    kind = "followup" if row.kind == _FOLLOWUP else "complaint"
    named = intent.get("personal") if kind == "complaint" else None
    remote = detail.get("remote_id")
    return SentCopy(
        system=row.system,
        ref=row.ref,
        remote_id=None if remote is None else str(remote),
        at=row.at,
        kind=kind,
        personal=tuple(str(n) for n in named) if isinstance(named, list) else (),
        anonymous=bool(intent.get("anonymous")),
        secret=bool(intent.get("rahasia")),
    )


def _naive(at: datetime) -> datetime:
    # SQLite gives naive UTC datetimes back, PostgreSQL aware ones: compare in naive UTC.
    return at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
