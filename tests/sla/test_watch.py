"""Deadlines read from the ledger: the stage, when its clock started, and the ids shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from bridge.ledger import Ledger
from bridge.ledger.tables import COMPLAINT, EVENT
from bridge.sla import deadlines, national_calendar, summary
from tests.daemon.ledger_fill import fill, ticket, tracking_id

WIB = ZoneInfo("Asia/Jakarta")
CALENDAR = national_calendar(range(2025, 2028))
FILED = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'bridge.db'}") as opened:
        fill(opened, 6, FILED)
        yield opened


def _set(ledger: Ledger, ref: str, **values: object) -> Any:
    with ledger.db.write() as session:
        session.execute(update(COMPLAINT).where(COMPLAINT.c.ref == ref).values(**values))
        cid = session.scalars(select(COMPLAINT.c.id).where(COMPLAINT.c.ref == ref)).one()
    return cid


def test_each_open_stage_gets_its_working_day_count(ledger: Ledger) -> None:
    """new/verified: 3 working days from filing; dispatched: 5 from dispatch; final: none."""
    found = {d.ref: d for d in deadlines(ledger, CALENDAR, WIB)}
    # The filled statuses rotate: n=1 verified, 2 dispatched, 3 in_progress, 4 responded,
    # 5 closed, 6 new.
    assert "lbtest00000005" not in found  # closed: no deadline
    new = found["lbtest00000006"]
    assert (new.stage, new.started_at) == ("verification", FILED - timedelta(minutes=6 * 4321))
    assert new.due_at == CALENDAR.deadline(new.started_at, 3, WIB)
    assert found["lbtest00000004"].stage == "auto_close"
    dispatched = found["lbtest00000002"]
    assert dispatched.stage == "follow_up"
    assert dispatched.due_at == CALENDAR.deadline(dispatched.started_at, 5, WIB)
    assert dispatched.ids == (("lapor", tracking_id(2)), ("sidumas", ticket(2)))


def test_in_progress_counts_from_the_dispatch_in_its_history(ledger: Ledger) -> None:
    """A complaint now in progress keeps the follow-up clock that its dispatch started."""
    dispatched_at = datetime(2025, 9, 2, 3, 0, tzinfo=UTC)
    cid = _set(ledger, "lbtest00000003", status_at=datetime(2025, 9, 8, 3, 0, tzinfo=UTC))
    detail = {"old": "verified", "new": "dispatched", "at": dispatched_at.isoformat()}
    with ledger.db.write() as session:
        session.execute(
            insert(EVENT).values(
                complaint_id=cid,
                key="status:dispatch",
                at=dispatched_at,
                kind="status.changed",
                detail=json.dumps(detail),
            )
        )
    (found,) = [d for d in deadlines(ledger, CALENDAR, WIB) if d.ref == "lbtest00000003"]
    assert found.status == "in_progress" and found.started_at == dispatched_at
    # Tuesday 2 September + 5 working days, Friday 5 September (Maulid Nabi) skipped.
    assert found.due_at == datetime(2025, 9, 10, 23, 59, 59, tzinfo=WIB)


def test_the_summary_counts_overdue_and_due_soon_per_stage(ledger: Ledger) -> None:
    """When the first clock starts nothing is overdue; two months later all open ones are."""
    found = deadlines(ledger, CALENDAR, WIB)
    early = summary(found, timedelta(days=1), min(d.started_at for d in found))
    late = summary(found, timedelta(days=1), FILED + timedelta(days=60))
    assert sum(c["overdue"] for c in early.values()) == 0
    assert sum(c["overdue"] for c in late.values()) == sum(c["open"] for c in late.values()) == 5


def test_a_deadline_crossing_into_a_provisional_year_is_marked(ledger: Ledger) -> None:
    """A complaint filed in late December of the last known year is flagged provisional."""
    calendar = national_calendar(range(2034, 2036))
    _set(ledger, "lbtest00000001", created_at=datetime(2035, 12, 30, 2, tzinfo=UTC))
    (found,) = [d for d in deadlines(ledger, calendar, WIB) if d.ref == "lbtest00000001"]
    assert found.provisional
