"""When to look again at a linked complaint that has no change feed.

Young complaints move fast and are checked often; old ones rarely; final ones
never (the caller stops scheduling them). Pure, so the tiers are easy to test.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# (complaint younger than, re-check every)
TIERS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(days=1), timedelta(minutes=10)),
    (timedelta(days=7), timedelta(hours=1)),
    (timedelta(days=30), timedelta(hours=6)),
)
OLDEST_EVERY = timedelta(hours=24)


def next_poll(created_at: datetime, now: datetime) -> datetime:
    """The next time a non-final complaint created at ``created_at`` should be re-checked."""
    age = now - created_at
    for younger_than, every in TIERS:
        if age < younger_than:
            return now + every
    return now + OLDEST_EVERY
