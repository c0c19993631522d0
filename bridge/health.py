"""A failing system is paused, not hammered.

Every cycle that fails because of one connector (a timeout storm, HTTP 5xx, a 429
that outlived its retries, refused credentials) without getting anything done counts
one failure against that connector; a cycle that failed part-way after delivering
something shows a flaky system, not a dead one, and counts as a success.

From ``after_failures`` failures in a row the connector is paused: every route that
uses it skips its cycles, without a single request, until the pause is over; then
one cycle tries again. Each failure of such a probe doubles the pause, up to
``max_pause``. The first cycle that succeeds, or gets work done, clears the count.

The state lives in the ledger, so ``bridge status`` (another process) shows a
paused connector and why, and every replica sees the same pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bridge.connector import Connector
from bridge.errors import RateLimited, system_of


@dataclass(frozen=True)
class PausePolicy:
    """When a connector is paused, and for how long."""

    after_failures: int = 3
    first_pause: timedelta = timedelta(minutes=1)
    max_pause: timedelta = timedelta(minutes=30)

    def pause_until(
        self, failures: int, now: datetime, error: BaseException | None = None
    ) -> datetime | None:
        """The end of the pause after ``failures`` failures in a row; None: not paused yet."""
        if failures < self.after_failures:
            return None
        doubled = self.first_pause * (1 << min(failures - self.after_failures, 16))
        pause = min(doubled, self.max_pause)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            # The server said when to come back; never sooner than that.
            pause = max(pause, timedelta(seconds=error.retry_after))
        return now + pause


@dataclass(frozen=True)
class ConnectorHealth:
    """What the ledger remembers of one connector's failures."""

    connector: str
    failures: int
    paused_until: datetime | None
    last_error: str | None
    updated_at: datetime

    def paused_at(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now


def failing_connector(
    error: BaseException, candidates: Sequence[Connector[Any]]
) -> Connector[Any] | None:
    """The connector among ``candidates`` that raised ``error``, if any.

    Read from the error itself: every error out of a connector's contract method
    carries that connector's name (``bridge.errors.system_of``), however deep it was
    raised (its HTTP client, its database driver). An error raised by the engine or
    the ledger names none, and is blamed on none.
    """
    system = system_of(error)
    return next((c for c in candidates if system is not None and c.name == system), None)
