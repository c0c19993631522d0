"""SLA watch: each open complaint's LAPOR! deadline in Indonesian working days.

- ``calendar``: ``WorkingCalendar`` (weekends, public holidays, cuti bersama) and the
  day-counting rule;
- ``overrides``: the agency's versioned override file (SKB revisions, regional days);
- ``watch``: ``deadlines``, the stage and deadline of every open complaint in the ledger.

``sla_calendar(settings)`` builds the calendar the configuration asks for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge.config import BridgeConfig
from bridge.sla.calendar import WorkingCalendar, national_calendar
from bridge.sla.overrides import build_calendar, read_overrides
from bridge.sla.watch import BREACH_STAGES, Deadline, deadlines, due_within, summary

# Last year's holidays count for a complaint filed last year and still open; one filed
# before that is long past any deadline whatever its holidays.
YEARS_BACK = 1
YEARS_AHEAD = 1  # a deadline is at most a few weeks ahead


def sla_calendar(settings: BridgeConfig, now: datetime | None = None) -> WorkingCalendar:
    """The working calendar for the years around ``now``, with the configured overrides."""
    year = (now or datetime.now(UTC)).year
    path = settings.daemon.sla_calendar
    overrides = read_overrides(Path(path)) if path else None
    years = range(year - YEARS_BACK, year + YEARS_AHEAD + 1)
    return build_calendar(years, settings.daemon.sla_region, overrides)


def agency_zone(settings: BridgeConfig) -> ZoneInfo:
    return ZoneInfo(settings.daemon.time_zone)


__all__ = [
    "BREACH_STAGES",
    "Deadline",
    "WorkingCalendar",
    "agency_zone",
    "build_calendar",
    "deadlines",
    "due_within",
    "national_calendar",
    "read_overrides",
    "sla_calendar",
    "summary",
]
