"""The Open311 connector's pure rules: time windows, the ref trailer, form fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from bridge.connectors.open311_wire import (
    form_fields,
    halves,
    split_ref,
    windows,
    wire_time,
    with_ref,
)

T0 = datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)


def test_windows_cover_the_range_in_whole_seconds_sharing_boundaries() -> None:
    """Windows start at the floor second, end at the ceiling second and touch each other."""
    parts = list(windows(T0, T0 + timedelta(days=25), timedelta(days=10)))
    assert parts[0][0] == T0.replace(microsecond=0)
    assert parts[-1][1] == (T0 + timedelta(days=25, seconds=1)).replace(microsecond=0)
    assert all(a[1] == b[0] for a, b in pairwise(parts))
    assert len(parts) == 3


def test_no_windows_when_start_is_after_end() -> None:
    """A since in the future lists nothing (and asks nothing)."""
    assert list(windows(T0 + timedelta(days=1), T0, timedelta(days=30))) == []


def test_halves_stop_at_one_second() -> None:
    """A window is halved at a whole second; one second or less cannot be split."""
    low = T0.replace(microsecond=0)
    (a, b), (c, d) = halves(low, low + timedelta(seconds=10))
    assert (a, b, c, d) == (low, low + timedelta(seconds=5), low + timedelta(seconds=5), d)
    assert halves(low, low + timedelta(seconds=1)) == ()


def test_wire_time_is_utc_with_z() -> None:
    """Bounds are sent in UTC with a Z, whole seconds."""
    assert wire_time(T0) == "2026-01-01T00:00:00Z"


def test_ref_trailer_round_trips() -> None:
    """with_ref adds the last line; split_ref takes it back off into bridge_ref."""
    ref = "lb0123456789abcdef"
    shown = split_ref({"description": with_ref("Lampu mati.  ", ref)})
    assert shown == {"description": "Lampu mati.", "bridge_ref": ref}
    assert split_ref({"description": with_ref(None, ref)})["bridge_ref"] == ref


def test_only_an_exact_last_line_is_a_ref() -> None:
    """A longer token, or a ref in the middle of the text, is not the bridge's reference."""
    longer = {"description": "x\n\n[ref: lb0123456789abcdef9]"}
    middle = {"description": "[ref: lb0123456789abcdef]\nmore text"}
    assert split_ref(longer) == longer
    assert split_ref(middle) == middle


def test_form_fields_flatten_attributes_and_drop_nones() -> None:
    """attribute tables become attribute[code] fields; None is left out; values are text."""
    form = form_fields({"lat": -8.6, "email": None, "attribute": {"size": 3}, "urgent": True})
    assert form == {"lat": "-8.6", "attribute[size]": "3", "urgent": "true"}
