"""Indonesian working days: which days count towards a LAPOR! deadline.

A working day is Monday to Friday, minus the national public holidays *and* the cuti
bersama (joint leave days) that the SKB of three ministers adds each year
(``holidays.ID(categories=("public", "government"))``: the library's default leaves
cuti bersama out, which would make every deadline around Lebaran days too early).
An override file (``bridge.sla.overrides``) adds what the library cannot know: an SKB
revision, a regional day off (Bali's dispensasi days matter for Badung) or a day made
a working day again.

A year for which the library has no cuti bersama yet (the SKB is usually signed in
the autumn before) is *provisional*: its deadlines may move later once the SKB is out.
It stops being provisional when the library knows its cuti bersama or the override
file lists it in ``complete_years``.

The counting rule (``add_working_days``): the day a stage starts is day 0, whatever
the hour; the deadline is the end of the n-th working day after it, in the source's
time zone. A complaint filed on Friday evening with 3 working days is due at the end
of Wednesday.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

CATEGORIES = ("public", "government")


@dataclass(frozen=True)
class WorkingCalendar:
    """Days off and extra working days, and which years are provisional."""

    days_off: Mapping[date, str] = field(default_factory=dict)
    """Weekdays that are not working days, with their name (holiday, cuti bersama, …)."""
    extra_working: frozenset[date] = frozenset()
    """Days the override file makes working days (a cancelled cuti bersama, a Saturday)."""
    provisional_years: frozenset[int] = frozenset()
    version: str | None = None
    """The override file's version, shown beside every deadline list."""

    def is_working(self, day: date) -> bool:
        if day in self.extra_working:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is day 0)."""
        if count < 0:
            raise ValueError("a deadline counts forward: give a count of 0 or more")
        day = start
        left = count
        while left > 0:
            day += timedelta(days=1)
            if self.is_working(day):
                left -= 1
        return day

    def deadline(self, start: datetime, count: int, zone: ZoneInfo) -> datetime:
        """The end of the ``count``-th working day after ``start``, in ``zone`` (aware)."""
        local = start.astimezone(zone).date()
        last = self.add_working_days(local, count)
        return datetime.combine(last + timedelta(days=1), time(), zone) - timedelta(seconds=1)

    def with_day_off(self, day: date, name: str) -> WorkingCalendar:
        """This calendar with one more day off (what an SKB revision or a region adds)."""
        days = {**self.days_off, day: name}
        return WorkingCalendar(
            days, self.extra_working - {day}, self.provisional_years, self.version
        )


def national_calendar(years: Iterable[int]) -> WorkingCalendar:
    """Public holidays and cuti bersama of ``years``, as the ``holidays`` library has them."""
    return _national(tuple(sorted(set(years))))


@functools.lru_cache(maxsize=8)
def _national(wanted: tuple[int, ...]) -> WorkingCalendar:
    # The library computes lunar holidays year by year (about 0.1 s each): the daemon's
    # snapshot, retaken every 30 s, asks for the same years again and again.
    known = holidays.country_holidays("ID", categories=CATEGORIES, years=wanted)
    joint = holidays.country_holidays("ID", categories=("government",), years=wanted)
    have_joint = {day.year for day in joint}
    provisional = frozenset(year for year in wanted if year not in have_joint)
    return WorkingCalendar(MappingProxyType(dict(known.items())), frozenset(), provisional)
