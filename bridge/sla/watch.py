"""Each open complaint's deadline, read from the ledger.

The stage a complaint is in comes from its normalised status (DOMAIN.md §1):

| status                      | stage         | clock starts          | working days |
|-----------------------------|---------------|-----------------------|--------------|
| new, verified (or unknown)  | verification  | when it was filed     | 3            |
| dispatched, in_progress     | follow_up     | when it was dispatched| 5            |
| responded                   | auto_close    | the follow-up         | 10           |
| postponed, final statuses   | (no deadline) |                       |              |

``auto_close`` is not a breach: LAPOR! closes a complaint with a follow-up the citizen
does not answer. The dispatch time of a complaint now ``in_progress`` is the last
``status.changed`` to ``dispatched`` in its history; without one, its status time.
Only identifiers the desk knows are read (tickets, tracking ids): no personal data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bridge.ledger import Ledger
from bridge.ledger.sql import chunks
from bridge.ledger.tables import COMPLAINT, EVENT, LINK
from bridge.sla.calendar import WorkingCalendar

STAGES: dict[str | None, tuple[str, int]] = {
    None: ("verification", 3),
    "new": ("verification", 3),
    "verified": ("verification", 3),
    "dispatched": ("follow_up", 5),
    "in_progress": ("follow_up", 5),
    "responded": ("auto_close", 10),
}
BREACH_STAGES = ("verification", "follow_up")


@dataclass(frozen=True)
class Deadline:
    """One open complaint's current deadline."""

    ref: str
    stage: str
    status: str | None
    started_at: datetime
    due_at: datetime
    ids: tuple[tuple[str, str], ...]
    """(system, id) of each record of the complaint: what a person searches for."""
    provisional: bool
    """The deadline falls in or crosses a year whose cuti bersama are not known yet."""

    def overdue(self, now: datetime) -> bool:
        return now > self.due_at

    def left(self, now: datetime) -> timedelta:
        return self.due_at - now


def deadlines(
    ledger: Ledger, calendar: WorkingCalendar, zone: ZoneInfo, now: datetime | None = None
) -> list[Deadline]:
    """Every open complaint's deadline, soonest first."""
    rows = _open_complaints(ledger)
    dispatched = _dispatch_times(ledger, [row[0] for row in rows if row[2] == "in_progress"])
    ids = _record_ids(ledger, [row[0] for row in rows])
    found = []
    for cid, ref, status, status_at, created_at in rows:
        stage, days = STAGES[status]
        if stage == "verification" or status_at is None:
            start = created_at
        else:
            start = dispatched.get(cid, status_at) if status == "in_progress" else status_at
        due = calendar.deadline(start, days, zone)
        years = range(start.astimezone(zone).year, due.year + 1)
        provisional = any(year in calendar.provisional_years for year in years)
        found.append(Deadline(ref, stage, status, start, due, ids.get(cid, ()), provisional))
    found.sort(key=lambda d: d.due_at)
    return found


def due_within(found: Sequence[Deadline], window: timedelta, now: datetime) -> list[Deadline]:
    """Those overdue or due before ``now + window``."""
    return [d for d in found if d.due_at <= now + window]


def summary(
    found: Sequence[Deadline], soon: timedelta, now: datetime | None = None
) -> dict[str, dict[str, int]]:
    """stage → {"overdue": n, "due_soon": n, "open": n}: what the metrics and page show."""
    now = now or datetime.now(UTC)
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: {"open": 0, "due_soon": 0, "overdue": 0}
    )
    for deadline in found:
        entry = counts[deadline.stage]
        entry["open"] += 1
        if deadline.overdue(now):
            entry["overdue"] += 1
        elif deadline.due_at <= now + soon:
            entry["due_soon"] += 1
    return dict(counts)


_Row = tuple[int, str, str | None, datetime | None, datetime]


def _open_complaints(ledger: Ledger) -> list[_Row]:
    query = select(
        COMPLAINT.c.id,
        COMPLAINT.c.ref,
        COMPLAINT.c.status,
        COMPLAINT.c.status_at,
        COMPLAINT.c.created_at,
    ).where((COMPLAINT.c.status.is_(None)) | COMPLAINT.c.status.in_([s for s in STAGES if s]))
    with ledger.db.read() as session:
        return [tuple(row) for row in session.execute(query)]


def _dispatch_times(ledger: Ledger, cids: list[int]) -> dict[int, datetime]:
    found: dict[int, datetime] = {}
    with ledger.db.read() as session:
        for part in chunks(cids):
            query = select(EVENT.c.complaint_id, EVENT.c.detail).where(
                EVENT.c.kind == "status.changed", EVENT.c.complaint_id.in_(part)
            )
            for cid, detail in session.execute(query):
                data = json.loads(detail)
                if data.get("new") == "dispatched" and data.get("at"):
                    at = datetime.fromisoformat(data["at"])
                    found[cid] = max(found.get(cid, at), at)
    return found


def _record_ids(ledger: Ledger, cids: list[int]) -> dict[int, tuple[tuple[str, str], ...]]:
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    with ledger.db.read() as session:
        for part in chunks(cids):
            query = select(LINK.c.complaint_id, LINK.c.system, LINK.c.remote_id).where(
                LINK.c.complaint_id.in_(part)
            )
            for cid, system, remote_id in session.execute(query):
                found[cid].append((system, remote_id))
    return {cid: tuple(sorted(pairs)) for cid, pairs in found.items()}
