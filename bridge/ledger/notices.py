"""Connector notices in the ledger: what each system's connector says about its set-up.

A notice is a connector's own sentence (``Connector.notices()``: an Open311 server
without the updates extension, a source whose clock runs hours ahead), never a record's
content. Every cycle notes what the connectors of its two systems say now; a notice is
shown from when it was first said until a connector has not said it for ``KEEP_FOR``.

Not at once: a connector says only what it has found out since it was built, and a new
process (the daemon restarted, ``bridge sync --once`` from a timer) finds an Open311
server's missing extension again only when it next reads follow-ups, which for settled
complaints is up to a day later (``bridge.sync.repoll``). Forgetting a notice whenever a
fresh connector has not tried yet would make it blink on and off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bridge.ledger import sql
from bridge.ledger.base import Database
from bridge.ledger.tables import SYSTEM_NOTICE
from bridge.privacy import scrub_text

TEXT_LIMIT = 500
KEEP_FOR = timedelta(days=2)
"""How long a notice stays after it was last said: longer than the slowest re-poll."""


@dataclass(frozen=True)
class Notice:
    """One thing a person should know about a system, and when it was first and last said."""

    system: str
    text: str
    first_seen: datetime
    last_seen: datetime


class Notices:
    """Connector notices per system: ``ledger.notices``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def note(self, system: str, texts: Sequence[str]) -> None:
        """``system``'s connector says ``texts`` now; what it stopped saying ages out."""
        now = self._db.clock()
        kept = list(dict.fromkeys(sql.storable(scrub_text(t), TEXT_LIMIT) for t in texts))
        table = SYSTEM_NOTICE
        rows = [{"system": system, "text": t, "first_seen": now, "last_seen": now} for t in kept]
        with self._db.write() as session:
            stale = (table.c.system == system) & (table.c.last_seen < now - KEEP_FOR)
            session.execute(delete(table).where(stale & table.c.text.not_in(kept)))
            sql.upsert(session, table, rows, keys=["system", "text"], copy=["last_seen"])

    def listed(self, systems: Sequence[str] | None = None) -> list[Notice]:
        """The current notices (of ``systems``, or all), by system, oldest first."""
        table = SYSTEM_NOTICE
        query = select(table).order_by(table.c.system, table.c.first_seen, table.c.text)
        if systems is not None:
            query = query.where(table.c.system.in_(list(systems)))
        with self._db.read() as session:
            return [
                Notice(row.system, row.text, row.first_seen, row.last_seen)
                for row in session.execute(query)
            ]
