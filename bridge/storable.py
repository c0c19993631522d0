"""Values the ledger cannot store set their record aside, before anything is written.

The ledger keeps a record's ids and raw status in bounded columns, and PostgreSQL
refuses a NUL character (or a lone surrogate) in any text. One record carrying
such a value would otherwise fail its page's ledger write on every cycle and hold
back every complaint listed after it (TRAPS.md: one bad record aborts the run).
So each value the ledger will write from source data is checked as the record is
mapped, and one that cannot be stored is that record's problem (``RecordInvalid``,
naming the field). Only identities and raw statuses are checked: texts that merely
explain (reasons, masked records) are escaped and cut by the ledger itself.
"""

from __future__ import annotations

from sqlalchemy import Column

from bridge.errors import RecordInvalid
from bridge.ledger.tables import LINK
from bridge.model import Complaint


def _limit(column: Column[str]) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), f"{column} has no length"
    return length


# A source id is a link's remote_id, a complaint's origin_id and a quarantine's
# source_id: all VARCHAR(200). The raw status is kept on the link.
ID_LIMIT = _limit(LINK.c.remote_id)
CODE_LIMIT = _limit(LINK.c.raw_status_code)
LABEL_LIMIT = _limit(LINK.c.raw_status_label)


def unstorable(value: str, limit: int) -> str | None:
    """Why the ledger cannot store ``value`` in a column of ``limit`` characters, or None."""
    if len(value) > limit:
        return f"is {len(value)} characters long; the ledger keeps at most {limit}"
    if "\x00" in value:
        return "holds a NUL character, which the ledger's database refuses"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a character that is not valid Unicode (a lone surrogate)"
    return None


def check(value: str | None, limit: int, field: str, *, what: str) -> None:
    """RecordInvalid naming ``field`` when ``value`` cannot be stored."""
    problem = None if value is None else unstorable(value, limit)
    if problem is not None:
        raise RecordInvalid(
            f"{what} {problem}; fix the record in its source system (it is tried again "
            f"once it changes there)",
            field=field,
        )


def checked_id(source_id: str) -> str:
    """``source_id`` when the ledger can store it as the record's identity."""
    check(source_id, ID_LIMIT, "source_id", what="the record's id")
    return source_id


def check_complaint(complaint: Complaint) -> None:
    """RecordInvalid when a value the ledger writes from ``complaint`` cannot be stored."""
    raw = complaint.raw_status
    check(raw.code, CODE_LIMIT, "raw_status.code", what="the raw status code")
    check(raw.label, LABEL_LIMIT, "raw_status.label", what="the raw status label")


def checked_remote_id(remote_id: str, target: str) -> str:
    """The id a target gave a new record, when the ledger can store it for the link."""
    problem = unstorable(remote_id, ID_LIMIT)
    if problem is not None:
        raise RecordInvalid(
            f"{target} created this complaint, but its new id {problem}, so it cannot be "
            f"linked: check {target} for the copy before this complaint is sent again",
            field="remote_id",
        )
    return remote_id
