"""The working-day calendar: holidays, cuti bersama, overrides, provisional years, counting."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import ConfigError
from bridge.sla import build_calendar, national_calendar, read_overrides
from bridge.sla.calendar import WorkingCalendar

WITA = ZoneInfo("Asia/Makassar")
CALENDAR = national_calendar(range(2024, 2028))


def test_cuti_bersama_are_not_working_days() -> None:
    """2025-08-18 (joint leave after Independence Day) and 2026-03-20 (Lebaran) are days off."""
    assert not CALENDAR.is_working(date(2025, 8, 18))
    assert not CALENDAR.is_working(date(2026, 3, 20))
    assert CALENDAR.is_working(date(2025, 8, 19))  # an ordinary Tuesday


def test_the_default_holidays_would_miss_cuti_bersama() -> None:
    """Only the "government" category holds cuti bersama: the library's default lacks them."""
    import holidays

    assert date(2025, 8, 18) not in holidays.country_holidays("ID", years=2025)


def test_a_deadline_ends_at_the_end_of_the_nth_working_day_in_the_source_zone() -> None:
    """Filed on a Friday evening WITA (still Friday in UTC): 3 working days end on Wednesday."""
    filed = datetime(2025, 9, 12, 11, 30, tzinfo=UTC)  # Friday 19:30 WITA
    due = CALENDAR.deadline(filed, 3, WITA)
    assert due == datetime(2025, 9, 17, 23, 59, 59, tzinfo=WITA)


def test_the_zone_decides_the_start_day() -> None:
    """Filed Friday 23:30 UTC is Saturday in WITA: counting starts from Saturday, not Friday."""
    filed = datetime(2025, 9, 12, 23, 30, tzinfo=UTC)
    assert CALENDAR.deadline(filed, 1, WITA).date() == date(2025, 9, 15)
    assert CALENDAR.deadline(filed, 1, ZoneInfo("UTC")).date() == date(2025, 9, 15)
    assert CALENDAR.deadline(datetime(2025, 9, 11, 23, 30, tzinfo=UTC), 1, WITA).date() == date(
        2025, 9, 15
    )


def test_lebaran_2026_pushes_a_follow_up_past_the_joint_leave() -> None:
    """5 working days from Monday 2026-03-16 skip Nyepi, Lebaran and their cuti bersama."""
    due = CALENDAR.add_working_days(date(2026, 3, 16), 5)
    skipped = [
        day
        for n in range(1, (due - date(2026, 3, 16)).days)
        if (day := date(2026, 3, 16) + timedelta(days=n)).weekday() < 5
        and not CALENDAR.is_working(day)
    ]
    assert date(2026, 3, 20) in skipped and due > date(2026, 3, 23)


def test_a_year_without_cuti_bersama_data_is_provisional() -> None:
    """A year the library has no cuti bersama for is provisional, until the file completes it."""
    calendar = national_calendar(range(2025, 2036))
    assert 2035 in calendar.provisional_years and 2025 not in calendar.provisional_years


def test_the_override_file_adds_regional_days_and_completes_years(tmp_path: Path) -> None:
    """A Bali dispensasi day counts only for the bali region; complete_years ends provisional."""
    path = tmp_path / "sla.toml"
    path.write_text(
        'version = "2035-1"\ncomplete_years = [2035]\n'
        "[[day_off]]\ndate = 2035-06-13\nname = 'Dispensasi Galungan'\nregions = ['Bali']\n"
        "[[working_day]]\ndate = 2035-06-16\nname = 'Saturday worked in exchange'\n",
        encoding="utf-8",
    )
    overrides = read_overrides(path)
    bali = build_calendar(range(2035, 2036), "bali", overrides)
    jakarta = build_calendar(range(2035, 2036), None, overrides)

    assert not bali.is_working(date(2035, 6, 13)) and jakarta.is_working(date(2035, 6, 13))
    assert bali.is_working(date(2035, 6, 16))  # a Saturday made a working day
    assert bali.provisional_years == frozenset() and bali.version == "2035-1"


def test_a_wrong_override_file_names_every_problem(tmp_path: Path) -> None:
    """No version, a date as text and an unknown key: three problems, each with its fix."""
    path = tmp_path / "sla.toml"
    path.write_text('colour = 1\n[[day_off]]\ndate = "2026-01-02"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        read_overrides(path)
    problems = raised.value.problems
    assert len(problems) == 3
    assert any("version" in p for p in problems)
    assert any("date = 2026-03-19" in p for p in problems)
    assert any("'colour'" in p for p in problems)


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 6, 30)),
    count=st.integers(min_value=0, max_value=15),
    holiday=st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)),
)
def test_adding_a_holiday_never_makes_a_deadline_earlier(
    start: date, count: int, holiday: date
) -> None:
    """Property: one more day off moves any deadline later or leaves it where it was."""
    calendar: WorkingCalendar = CALENDAR
    before = calendar.add_working_days(start, count)
    after = calendar.with_day_off(holiday, "extra").add_working_days(start, count)
    assert after >= before
