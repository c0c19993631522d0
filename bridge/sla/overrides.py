"""The override file: what the ``holidays`` library cannot know, versioned.

A TOML file the agency keeps (``[daemon] sla_calendar``); see
``deploy/sla-calendar.example.toml``::

    version = "2026-1"            # required: bump it with every change, it is shown
    complete_years = [2027]       # years whose cuti bersama this file completes

    [[day_off]]                   # an SKB revision, a regional day off
    date = 2026-12-24
    name = "Cuti bersama Natal (SKB revision)"
    regions = ["bali"]            # optional: only bridges with this [daemon] sla_region

    [[working_day]]               # a day off cancelled, or a working Saturday
    date = 2026-05-15
    name = "Cuti bersama cancelled"

An entry for another region is ignored; an entry without ``regions`` holds everywhere.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bridge.errors import ConfigError
from bridge.sla.calendar import WorkingCalendar, national_calendar

_KEYS = {"version", "complete_years", "day_off", "working_day"}


@dataclass(frozen=True)
class Override:
    day: date
    name: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class OverrideFile:
    version: str
    complete_years: frozenset[int]
    days_off: tuple[Override, ...]
    working_days: tuple[Override, ...]


def read_overrides(path: Path) -> OverrideFile:
    """The file's entries; a ``ConfigError`` naming every problem found."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            [f"cannot read the SLA calendar file ({exc}): fix it or unset [daemon] sla_calendar"],
            source=str(path),
        ) from None
    problems = [
        f"unknown key {key!r}: the file knows {', '.join(sorted(_KEYS))}"
        for key in data
        if key not in _KEYS
    ]
    version = data.get("version")
    if not isinstance(version, str) or not version:
        problems.append('`version` is missing: write version = "<year>-<n>" and bump it on change')
    years = data.get("complete_years", [])
    if not isinstance(years, list) or not all(isinstance(y, int) for y in years):
        problems.append("`complete_years` must be a list of years, like [2027]")
        years = []
    days_off = _entries(data.get("day_off", []), "day_off", problems)
    working = _entries(data.get("working_day", []), "working_day", problems)
    if problems:
        raise ConfigError(problems, source=str(path))
    return OverrideFile(str(version), frozenset(years), days_off, working)


def build_calendar(
    years: range, region: str | None = None, overrides: OverrideFile | None = None
) -> WorkingCalendar:
    """The national calendar of ``years`` with the overrides for ``region`` applied."""
    base = national_calendar(years)
    if overrides is None:
        return base
    days = dict(base.days_off)
    extra = set(base.extra_working)
    for entry in overrides.days_off:
        if _applies(entry, region):
            days[entry.day] = entry.name
            extra.discard(entry.day)
    for entry in overrides.working_days:
        if _applies(entry, region):
            days.pop(entry.day, None)
            extra.add(entry.day)
    provisional = base.provisional_years - overrides.complete_years
    return WorkingCalendar(days, frozenset(extra), provisional, overrides.version)


def _applies(entry: Override, region: str | None) -> bool:
    return not entry.regions or (region is not None and region.lower() in entry.regions)


def _entries(raw: Any, key: str, problems: list[str]) -> tuple[Override, ...]:
    if not isinstance(raw, list):
        problems.append(f"`{key}` must be written [[{key}]], one table per day")
        return ()
    found = []
    for number, item in enumerate(raw, start=1):
        where = f"[[{key}]] number {number}"
        day = item.get("date") if isinstance(item, dict) else None
        if not isinstance(day, date):
            problems.append(f"{where}: `date` must be a TOML date, like date = 2026-03-19")
            continue
        regions = item.get("regions", [])
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            problems.append(f'{where}: `regions` must be a list of names, like ["bali"]')
            continue
        name = str(item.get("name") or key.replace("_", " "))
        found.append(Override(day, name, tuple(r.lower() for r in regions)))
    return tuple(found)
