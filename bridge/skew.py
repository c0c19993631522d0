"""A source whose newest rows sit hours in the future: its times are written in another zone.

A Laravel app writes in its ``APP_TIMEZONE`` while its database server runs on UTC, a
mapping reads WITA times as WIB: new rows then look hours ahead, and a cursor's hold-back
keeps them out for that long, silently. ``bridge doctor`` (against our clock) and the sql
connector's pull (against the database's, which its hold-back uses) both ask
``future_skew``, so the problem is named, and fixed, in one wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FUTURE_SLACK = timedelta(minutes=30)
"""A source's newest row may run this far ahead of the clock before it is a problem."""
WHOLE_HOUR = timedelta(minutes=10)
"""How close to a whole number of hours a skew must be to be called a time zone."""
ZONE_FIX = (
    "set [mapping] timezone to the zone the application writes in (a Laravel app writes in "
    "its APP_TIMEZONE, a database server may be on UTC); until then new rows wait behind "
    "the cursor's hold-back for hours"
)
CLOCK_FIX = "set that server's clock right (NTP)"


@dataclass(frozen=True)
class Skew:
    """How far ahead a source's newest row is, what that means, and what to change."""

    ahead: timedelta
    problem: str
    fix: str


def future_skew(newest: datetime, now: datetime, zone: str, *, clock: str = "") -> Skew | None:
    """``newest`` against ``now`` (both aware, or both naive in one frame); None when fine.

    ``zone``: the mapping's time zone the times are read in; ``clock``: whose clock ``now``
    is, when not ours ("the database's clock").
    """
    skew = newest - now
    if skew <= FUTURE_SLACK:
        return None
    hours = round(skew / timedelta(hours=1))
    by = f" by {clock}" if clock else ""
    ahead = f"its newest row is {skew_text(skew)} in the future{by} ({newest.isoformat()})"
    if hours >= 1 and abs(skew - timedelta(hours=hours)) <= WHOLE_HOUR:
        problem = (
            f"{ahead}: a whole {hours} h, so its times are written in a zone {hours} h "
            f"ahead of {zone}, the [mapping] timezone its mapping reads them in"
        )
        return Skew(skew, problem, ZONE_FIX)
    return Skew(skew, ahead, CLOCK_FIX)


def skew_text(skew: timedelta) -> str:
    minutes = int(skew.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min"
