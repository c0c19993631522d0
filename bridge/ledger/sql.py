"""Small SQL building blocks shared by the ledger's reads and writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.ledger.failures import LedgerConflict
from bridge.ledger.prepared import PreparedIn
from bridge.ledger.tables import COMPLAINT

# SQLite accepts 32,766 bound parameters per statement and PostgreSQL 65,535; 500 ids
# per IN list keeps every lookup far below both while needing few round-trips.
CHUNK = 500

T = TypeVar("T")


def storable(text: str, limit: int | None = None) -> str:
    """``text`` as every ledger database can hold it: NUL and lone surrogates escaped
    (PostgreSQL refuses both in text), then cut to ``limit`` characters.

    For what the ledger writes to explain something (reasons, errors, masked records):
    such a write must never fail because of what it explains. Identities are never
    cut here; ``bridge.storable`` refuses a record whose id would not fit.
    """
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    copy: Sequence[str] = (),
    set_: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
    where: ColumnElement[bool] | None = None,
) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE`` for many rows in one executemany.

    ``copy`` columns take the new row's value; ``set_`` gives other expressions (for
    example ``attempts + 1``), or is a function of the new row (``excluded``) giving
    them, for expressions that mix stored and new values. With neither, conflicting
    rows are left alone.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    changes: dict[str, Any] = {name: stmt.excluded[name] for name in copy}
    changes.update((set_(stmt.excluded) if callable(set_) else set_) or {})
    if changes:
        final = stmt.on_conflict_do_update(index_elements=keys, set_=changes, where=where)
    else:
        final = stmt.on_conflict_do_nothing(index_elements=keys)
    session.execute(final, list(rows))


_COMPLAINT_IDS = PreparedIn(
    (),
    lambda _dialect, refs: select(COMPLAINT.c.ref, COMPLAINT.c.id).where(COMPLAINT.c.ref.in_(refs)),
)


def complaint_ids(session: Session, refs: Sequence[str]) -> dict[str, int]:
    """ref → complaint id for the refs the ledger knows."""
    found: dict[str, int] = {}
    for part in chunks(sorted(set(refs))):
        found.update(_COMPLAINT_IDS.rows(session, (), part))
    return found


def require_ids(session: Session, refs: Sequence[str]) -> dict[str, int]:
    """Like ``complaint_ids`` but every ref must be known (an intent was recorded)."""
    found = complaint_ids(session, refs)
    missing = sorted(set(refs) - found.keys())
    if missing:
        raise LedgerConflict(
            f"the ledger has no complaint {missing[0]!r} ({len(missing)} unknown ref(s)); "
            "creates.record_intents must come before completing or failing a create"
        )
    return found
