"""Property: native → canonical → native → canonical keeps every field read and written."""

from __future__ import annotations

from datetime import date, datetime
from operator import attrgetter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.mapping import Mapping
from bridge.model import Complaint

TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40).filter(str.strip)
OPTIONAL_TEXT = st.none() | TEXT
TRUE = st.sampled_from([1, "1", True, "true", "ya", "Yes", "y"])
FALSE = st.sampled_from([0, "0", False, "false", "tidak", "No", "n"])
FLAG = TRUE | FALSE
STAMP = st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2100, 12, 30))
DAY = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
COORD = st.floats(min_value=-180, max_value=180, allow_nan=False)
TAG = st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True)

# What each mapping must carry through a round trip: the property fails if a mapping edit
# silently stops writing one of these.
MUST_ROUND_TRIP = {
    "sidumas": {
        "title", "content", "ref", "category", "reporter.name", "reporter.email", "location.lat",
        "location.lng", "location.address", "is_anonymous", "is_secret",
    },
    "lapor": {
        "title", "content", "category", "classification", "incident_date", "tags",
        "is_anonymous", "is_secret",
    },
}  # fmt: skip


def _optional(record: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        record[key] = value


@st.composite
def sidumas_records(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": draw(st.integers(1, 10**9) | st.from_regex(r"[1-9][0-9]{0,8}", fullmatch=True)),
        "topik": draw(TEXT),
        "uraian": draw(TEXT),
        "tanggal": draw(STAMP).strftime("%Y-%m-%d %H:%M:%S"),
        "kategori_id": draw(st.integers(1, 8) | st.sampled_from(["1", "5", "8"])),
        "status": draw(st.integers(0, 6)),
        "status_pengaduan": draw(OPTIONAL_TEXT),
        "hide_identitas": draw(FLAG),
        "hide_pengaduan": draw(FLAG),
        "files": [],
    }
    for key in ("pelapor", "email", "alamat", "nik", "telp", "ref_eksternal"):
        _optional(record, key, draw(OPTIONAL_TEXT))
    lat, lng = draw(st.none() | COORD), draw(st.none() | COORD)
    _optional(record, "koordinat_lat", lat if lat is None or draw(st.booleans()) else repr(lat))
    _optional(record, "koordinat_lng", lng)
    return record


@st.composite
def lapor_records(draw: st.DrawFn) -> dict[str, Any]:
    stamp_format = st.sampled_from(["%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M:%S"])
    record: dict[str, Any] = {
        "id": draw(st.integers(1_000_000, 999_999_999)),
        "title": draw(TEXT),
        "content": draw(TEXT),
        "category_id": draw(st.integers(1, 8) | st.sampled_from(["3", "7"])),
        "status_code": draw(st.integers(0, 9)),
        "status_name": draw(st.none() | st.sampled_from(["Selesai", "Ditolak", "Baru"])),
        "is_anonymous": draw(FLAG),
        "is_secret": draw(FLAG),
        "created_at": draw(STAMP).strftime(draw(stamp_format)),
        "updated_at": draw(STAMP).strftime(draw(stamp_format)),
        "tags_raw": " ".join(f"#{tag}" for tag in draw(st.lists(TAG, max_size=4))),
    }
    _optional(record, "classification_id", draw(st.none() | st.integers(1, 4)))
    day = draw(st.none() | DAY)
    if day is not None:
        record["date_of_incident"] = day.strftime(draw(st.sampled_from(["%d/%m/%Y", "%Y-%m-%d"])))
    return record


def _get(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _set(record: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        record = record.setdefault(key, {})
    record[last] = value


def echo(mapping: Mapping, payload: dict[str, Any], source_id: str) -> dict[str, Any]:
    """The record the system would serve after a create: written values at their read paths."""
    record: dict[str, Any] = {}
    _set(record, "id", source_id)
    for name in mapping.round_trip_fields:
        paths = mapping.field_paths[name]
        assert paths.read is not None
        assert paths.write is not None
        if (value := _get(payload, paths.write)) is not None:
            _set(record, paths.read, value)
    return record


def assert_round_trips(mapping: Mapping, record: dict[str, Any]) -> None:
    first = mapping.to_canonical(record)
    second = mapping.to_canonical(echo(mapping, mapping.to_native(first), first.source_id))
    assert set(mapping.round_trip_fields) >= MUST_ROUND_TRIP[mapping.system]
    for name in mapping.round_trip_fields:
        assert attrgetter(name)(second) == attrgetter(name)(first), name
    assert isinstance(second, Complaint)


@settings(max_examples=200, deadline=None)
@given(record=sidumas_records())
def test_sidumas_records_round_trip(sidumas: Mapping, record: dict[str, Any]) -> None:
    """Every SIDUMAS field with both a read and a write path survives canonical → native → back."""
    assert_round_trips(sidumas, record)


@settings(max_examples=200, deadline=None)
@given(record=lapor_records())
def test_lapor_records_round_trip(lapor: Mapping, record: dict[str, Any]) -> None:
    """Every LAPOR! field with both a read and a write path survives canonical → native → back."""
    assert_round_trips(lapor, record)


@settings(max_examples=100, deadline=None)
@given(record=lapor_records())
def test_mapped_timestamps_are_always_aware(lapor: Mapping, record: dict[str, Any]) -> None:
    """Whatever format a LAPOR! time comes in, the canonical time carries a zone."""
    c = lapor.to_canonical(record)
    assert c.created_at is not None
    assert c.created_at.utcoffset() is not None
    assert c.updated_at is not None
    assert c.updated_at.utcoffset() is not None
