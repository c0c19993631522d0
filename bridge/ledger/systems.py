"""System names in the ledger: which systems it holds complaints for, and renaming one.

The ledger knows a system by its connector's name in the configuration, and the
bridge's reference for a complaint is derived from that name and the record's id
(``bridge.model.make_ref``). Renaming a connector in the file alone would make every
record of that system look new, and send it again. So ``bridge.sync.wiring`` refuses to
start while the ledger holds links of a system the configuration no longer names,
and ``ledger.systems.rename`` moves a system's whole memory to its new name at once.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, func, select, update

from bridge.ledger.base import Database
from bridge.ledger.tables import (
    COMPLAINT,
    CONNECTOR_HEALTH,
    CURSOR,
    EVENT,
    FOLLOWUP,
    FOLLOWUP_COPY,
    LINK,
    PENDING_OP,
    QUARANTINE,
    REVIEW,
    SYSTEM_NOTICE,
)

# Every column that holds a system's name.
SYSTEM_COLUMNS: tuple[ColumnElement[str], ...] = (
    COMPLAINT.c.origin_system,
    COMPLAINT.c.status_system,
    LINK.c.system,
    PENDING_OP.c.target_system,
    CURSOR.c.system,
    QUARANTINE.c.system,
    EVENT.c.system,
    FOLLOWUP.c.origin_system,
    FOLLOWUP_COPY.c.system,
    REVIEW.c.system,
    CONNECTOR_HEALTH.c.connector,
    SYSTEM_NOTICE.c.system,
)
# Where a system that already holds any of these has a memory of its own: no merging.
_OWN_RECORDS: tuple[ColumnElement[str], ...] = (
    LINK.c.system,
    PENDING_OP.c.target_system,
    QUARANTINE.c.system,
    FOLLOWUP_COPY.c.system,
)


class SystemNameTaken(Exception):
    """The new name already has records of its own in the ledger."""


class Systems:
    """Which systems the ledger holds, and renaming one: ``ledger.systems``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def linked(self) -> dict[str, int]:
        """Each system the ledger holds links for, with how many."""
        links = func.count().label("links")
        query = select(LINK.c.system, links).group_by(LINK.c.system)
        with self._db.read() as session:
            return {row.system: row.links for row in session.execute(query)}

    def rename(self, old: str, new: str) -> dict[str, int]:
        """Give every row of system ``old`` the name ``new``, in one transaction.

        Returns the rows changed per table (``"link": 1234``). Raises
        ``SystemNameTaken`` when ``new`` already holds records: two memories of one
        system cannot be merged by a rename.
        """
        changed: dict[str, int] = {}
        with self._db.write() as session:
            for column in _OWN_RECORDS:
                taken = session.scalar(select(func.count()).where(column == new)) or 0
                if taken:
                    raise SystemNameTaken(
                        f"{new!r} already holds {taken} row(s) in the ledger's "
                        f"{column.table.name} table"
                    )
            # What the new name gathered without any record (a cursor that read nothing,
            # a failure count) gives way to the old name's memory.
            session.execute(delete(CURSOR).where(CURSOR.c.system == new))
            session.execute(delete(CONNECTOR_HEALTH).where(CONNECTOR_HEALTH.c.connector == new))
            session.execute(delete(SYSTEM_NOTICE).where(SYSTEM_NOTICE.c.system == new))
            for column in SYSTEM_COLUMNS:
                table = column.table
                statement = update(table).where(column == old).values({column: new})
                count = cast(CursorResult[Any], session.execute(statement)).rowcount
                if count:
                    changed[f"{table.name}.{column.name}"] = count
        return changed
