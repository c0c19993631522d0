"""Reading native dates: the fast path for padded digits reads exactly what strptime read."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.mapping._values import _fixed_width, parse_datetime
from bridge.mapping._values import shown as _shown

FORMATS = (
    "%Y-%m-%d %H:%M:%S",  # sidumas, lapor, pengaduan-php
    "%d-%m-%Y %H:%M:%S",  # lapor's follow-ups
    "%d/%m/%Y",  # lapor's incident_date
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H",
    "%m/%d/%Y %I:%M %p",  # not fixed-width: strptime only
    "%Y-%m-%d %H:%M:%S.%f",
)


def reference(text: str, formats: tuple[str, ...]) -> datetime:
    """``parse_datetime`` as it was: strptime for each format in order, then ISO-8601."""
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        expected = ", ".join((*formats, "ISO-8601"))
        raise ValueError(
            f"cannot read {_shown(text)} as a date; expected one of: {expected}"
        ) from None


def outcome(text: str, formats: tuple[str, ...], parse: object) -> object:
    try:
        value = parse(text, formats)  # type: ignore[operator]
    except ValueError as exc:
        return ("error", str(exc))
    return (value, value.tzinfo, type(value))


# Near-valid dates: padded and unpadded fields, days and months and hours out of range,
# leap days, seconds 60, other separators, unicode digits, trailing text.
FIELD = st.from_regex(r"[0-9]{1,4}|[0-3][0-9]|[0-9]|٣|0|00|60|24|29|31", fullmatch=True)
SEPARATOR = st.sampled_from(
    ["-", "/", ":", " ", "T", "t", "  ", "", ".", "+07:00", "Z", "\t", "\u00a0", "\u2003", "\n"]
)
SHAPED = st.lists(st.tuples(FIELD, SEPARATOR), min_size=1, max_size=7).map(
    lambda parts: "".join(field + sep for field, sep in parts)
)
ANY = st.text(st.sampled_from("0123456789-/: T.+Z٣a\t\u00a0"), max_size=22)


@settings(max_examples=1500, deadline=None)
@given(
    SHAPED | ANY | st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.lists(st.sampled_from(FORMATS), min_size=0, max_size=3).map(tuple),
)
@example("2026-03-01 10:00:00", ("%Y-%m-%d %H:%M:%S",))
@example("2024-02-29 23:59:59", ("%Y-%m-%d %H:%M:%S",))
@example("2023-02-29 10:00:00", ("%Y-%m-%d %H:%M:%S",))
@example("2026-03-01 10:00:60", ("%Y-%m-%d %H:%M:%S",))
@example("2026-3-1 9:05:00", ("%Y-%m-%d %H:%M:%S",))
@example("0000-01-01 00:00:00", ("%Y-%m-%d %H:%M:%S",))
@example("01-03-2026 10:00:00", ("%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S"))
@example("2026-03-01T10:00:00+07:00", ("%Y-%m-%d %H:%M:%S",))
@example("2026-3-1\u200310:00:00", ("%Y-%m-%d %H:%M:%S",))  # any whitespace is strptime's
@example("2026-03-01t10:00:00", ("%Y-%m-%dT%H:%M:%S",))
@example("20261301", ("%Y%m%d",))
@example("05/06/0007", ("%d/%m/%Y",))  # a day-first format read in its own order
def test_parse_datetime_reads_and_refuses_as_strptime_did(
    text: str, formats: tuple[str, ...]
) -> None:
    """Every text, under any list of formats, gives strptime's datetime or the same error."""
    assert outcome(text, formats, parse_datetime) == outcome(text, formats, reference)


@pytest.mark.parametrize(
    ("fmt", "fast"),
    [
        ("%Y-%m-%d %H:%M:%S", True),
        ("%d-%m-%Y %H:%M:%S", True),
        ("%d/%m/%Y", True),
        ("%Y%m%d", True),
        ("%Y-%m-%d %H", True),
        ("%Y-%m-%d %H:%S", False),  # a gap in the time of day
        ("%H:%M", False),  # no date
        ("%Y-%m-%d %I:%M %p", False),
        ("%Y-%m-%d %H:%M:%S.%f", False),
        ("%Y-%m-%d %Y", False),
        ("%%Y-%m-%d", False),
        ("%Y.%m.%d", False),
    ],
)
def test_fixed_width_path_covers_only_padded_numeric_formats(fmt: str, fast: bool) -> None:
    """The fast path is built for the formats of padded numeric fields and plain separators."""
    assert (_fixed_width(fmt) is not None) is fast
