"""``/readyz``: is this bridge able to do its work right now?

Three checks, each cheap enough for a probe every few seconds: the ledger answers, its
schema is at this version's migration head (read once at start), and the scheduler
runs. The first failing check makes the answer 503 and is named in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

import bridge.migrations
from bridge.ledger import Ledger
from bridge.log import failure_reason


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class Readiness:
    """The checks of one daemon: its ledger and whether its scheduler runs."""

    def __init__(self, ledger: Ledger, scheduler_running: Callable[[], bool]) -> None:
        self._ledger = ledger
        self._running = scheduler_running
        folder = Path(bridge.migrations.__file__).parent
        self._head = ScriptDirectory(str(folder)).get_current_head()

    def checks(self) -> list[Check]:
        """Every check, in order; after a failing ledger check the schema one is skipped."""
        found: list[Check] = []
        try:
            engine = self._ledger.db.engine.execution_options(ledger_write=False)
            with engine.connect() as conn:
                current = MigrationContext.configure(conn).get_current_revision()
        except (SQLAlchemyError, OSError) as exc:
            found.append(Check("ledger", False, f"unreachable: {failure_reason(exc)}"))
            found.append(Check("migrations", False, "not checked: the ledger is unreachable"))
        else:
            found.append(Check("ledger", True, "reachable"))
            if current == self._head:
                found.append(Check("migrations", True, f"at {current}"))
            else:
                detail = f"at {current}, this version needs {self._head}: run `bridge sync --once`"
                found.append(Check("migrations", False, detail))
        running = self._running()
        found.append(Check("scheduler", running, "running" if running else "not running"))
        return found
