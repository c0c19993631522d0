"""A ledger holding N linked complaints, written in bulk: what the status endpoints read.

The rows are those a real cycle leaves (a complaint, its record in SIDUMAS and in LAPOR!,
the done create, a status and its history line), inserted directly so that a ledger of
10,000 complaints takes a second, not a sync of 10,000 records. Ticket numbers look like
SIDUMAS's (``SDM-2026-000002``), tracking ids like LAPOR!'s (7 to 9 digits).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bridge.ledger import Ledger
from bridge.ledger.tables import COMPLAINT, CYCLE_RUN, EVENT, LINK, PENDING_OP

ROUTE = "sidumas-to-lapor"
STATUSES = ("new", "verified", "dispatched", "in_progress", "responded", "closed")


def ticket(number: int) -> str:
    return f"SDM-2026-{number:06d}"


def tracking_id(number: int) -> str:
    return str(4_000_000 + number)


def fill(ledger: Ledger, count: int, now: datetime, *, route: str = ROUTE) -> None:
    """``count`` linked complaints filed over the 30 days before ``now``, statuses mixed."""
    complaints: list[dict[str, Any]] = []
    links, ops, events = [], [], []
    for n in range(1, count + 1):
        filed = now - timedelta(minutes=(n * 4321) % (30 * 24 * 60))
        status = STATUSES[n % len(STATUSES)]
        ref = f"lbtest{n:08d}"
        complaints.append(
            {
                "ref": ref,
                "origin_system": "sidumas",
                "origin_id": ticket(n),
                "created_at": filed,
                "status": status,
                "status_at": filed + timedelta(hours=5),
                "status_system": "lapor",
            }
        )
    with ledger.db.write() as session:
        session.execute(insert(COMPLAINT), complaints)
        ids = dict(session.execute(select(COMPLAINT.c.ref, COMPLAINT.c.id)).all())
        for n, row in enumerate(complaints, start=1):
            cid = ids[row["ref"]]
            for system, remote in (("sidumas", ticket(n)), ("lapor", tracking_id(n))):
                links.append(
                    {"complaint_id": cid, "system": system, "remote_id": remote, "updated_at": now}
                )
            ops.append(_done_create(route, cid, row["ref"], now))
            detail = {"old": "new", "new": row["status"], "at": row["status_at"].isoformat()}
            events.append(
                {
                    "complaint_id": cid,
                    "key": f"status:{n}",
                    "at": now,
                    "route": route,
                    "kind": "status.changed",
                    "system": "lapor",
                    "detail": json.dumps(detail),
                }
            )
        session.execute(insert(LINK), links)
        session.execute(insert(PENDING_OP), ops)
        session.execute(insert(EVENT), events)
        session.execute(
            insert(CYCLE_RUN),
            [{"route": route, "started_at": now, "finished_at": now, "ok": True, "counts": "{}"}],
        )


def _done_create(route: str, cid: int, ref: str, now: datetime) -> dict[str, object]:
    return {
        "kind": "create",
        "route": route,
        "complaint_id": cid,
        "target_system": "lapor",
        "ref": ref,
        "state": "done",
        "attempts": 1,
        "created_at": now,
        "updated_at": now,
    }
