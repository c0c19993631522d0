"""What the read commands print with ``--json``: plain documents, times ISO 8601 with offset.

The same facts as the tables, for scripts; stable keys, no rich markup, no personal data
(the ledger holds none: ids, statuses, counts and times).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from bridge.ledger import ComplaintTrace, LeaseInfo, RouteStatus


def echo(document: object) -> None:
    """Print ``document`` as indented JSON (datetimes as ISO 8601)."""
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=_default))


def status_document(
    ledger_name: str, statuses: Mapping[str, RouteStatus], leases: list[LeaseInfo]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    routes = []
    for name, st in statuses.items():
        last = st.last_cycle
        lag = st.lag(now)
        routes.append(
            {
                "route": name,
                "last_cycle": dataclasses.asdict(last) if last else None,
                "last_success_at": st.last_success_at,
                "lag_seconds": round(lag.total_seconds()) if lag is not None else None,
                "linked": st.linked,
                "pending_creates": st.pending_creates,
                "quarantined": st.quarantined,
                "to_review": st.reviews,
            }
        )
    held = [
        {"route": x.route, "holder": x.holder, "run": x.run_number, "free": x.is_free(now)}
        | {"expires_at": x.expires_at}
        for x in leases
        if x.route in statuses
    ]
    return {"ledger": ledger_name, "routes": routes, "leases": held}


def trace_document(found: ComplaintTrace) -> dict[str, Any]:
    document = dataclasses.asdict(found)
    for event in document["events"]:
        event["detail"] = _decoded(event["detail"])
    return document


def items_document(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Quarantined records or review flags as rows, their stored JSON decoded."""
    rows = []
    for item in items:
        row = dataclasses.asdict(item)
        for key in ("record_json", "detail"):
            if key in row:
                row[key] = _decoded(row[key])
        rows.append(row)
    return rows


def _decoded(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    raise TypeError(f"{type(value).__name__} is not JSON")
