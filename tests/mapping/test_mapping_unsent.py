"""unsent_note: what LAPOR!'s create has no field for (original date, local status) is not lost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import MappingError
from bridge.mapping import load_mapping
from bridge.model import Complaint, RawStatus, Status
from tests.mapping.test_mapping_records import complaint as records_complaint

MAPPINGS = Path(__file__).parents[2] / "mappings"
LINE = "Tanggal pengaduan asli: 01-03-2026 10:00 WIB; status di sidumas: Menunggu"


def complaint(**changes: Any) -> Complaint:
    """The records tests' complaint, created 10:00 WIB and "Menunggu" in its door."""
    dated = {
        "created_at": datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
        "status": Status.NEW,
        "raw_status": RawStatus(code="0", label="Menunggu"),
    }
    return records_complaint(**(dated | changes))


def lapor_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (MAPPINGS / "lapor.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "lapor-variant.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_lapor_create_text_carries_the_original_date_and_local_status() -> None:
    """The shipped lapor.toml appends one line: the date in WIB and the door's own status label."""
    payload = load_mapping(MAPPINGS / "lapor.toml").to_native(complaint(), origin="sidumas")
    assert payload["content"] == f"Sudah sebulan gelap.\n\n{LINE}"


def test_only_what_the_complaint_has_is_named() -> None:
    """No creation time: only the status; no status either: the text is sent unchanged."""
    mapping = load_mapping(MAPPINGS / "lapor.toml")
    undated = mapping.to_native(complaint(created_at=None), origin="sidumas")
    assert undated["content"].endswith("\n\nstatus di sidumas: Menunggu")
    bare = complaint(created_at=None, status=None, raw_status=RawStatus())
    assert mapping.to_native(bare, origin="sidumas")["content"] == "Sudah sebulan gelap."


def test_without_an_origin_nothing_is_appended() -> None:
    """to_native without origin (a record written back to its own system) adds no note."""
    mapping = load_mapping(MAPPINGS / "lapor.toml")
    assert mapping.to_native(complaint())["content"] == "Sudah sebulan gelap."


def test_the_note_is_off_without_the_key(tmp_path: Path) -> None:
    """unsent_note = false sends the text exactly as the door has it."""
    path = lapor_variant(tmp_path, 'unsent_note = "content"', "unsent_note = false")
    payload = load_mapping(path).to_native(complaint(), origin="sidumas")
    assert payload["content"] == "Sudah sebulan gelap."


def test_a_field_the_mapping_writes_is_not_repeated_in_the_note(tmp_path: Path) -> None:
    """A mapping that writes created_at itself names only the status in the note."""
    old = 'created_at = { read = "created_at", write = false }'
    path = lapor_variant(tmp_path, old, 'created_at = "created_at"')
    payload = load_mapping(path).to_native(complaint(), origin="sidumas")
    assert payload["content"].endswith("\n\nstatus di sidumas: Menunggu")


@pytest.mark.parametrize("value", ['"institution_id"', '"incident_date"', "1"])
def test_a_wrong_unsent_note_is_refused_with_the_fix(tmp_path: Path, value: str) -> None:
    """unsent_note naming no written text field fails at load, saying what it must name."""
    path = lapor_variant(tmp_path, 'unsent_note = "content"', f"unsent_note = {value}")
    with pytest.raises(MappingError, match="unsent_note must name a text field this mapping"):
        load_mapping(path)


def test_each_complaint_written_in_turn_gets_its_own_note() -> None:
    """One mapping writing complaints one after another (whole and in parts, as the sync
    does) notes each with its own date, status and origin, never the previous one's."""
    from datetime import timedelta, timezone

    from bridge.sync.anonymity import IDENTITY_FIELDS

    mapping = load_mapping(MAPPINGS / "lapor.toml")
    created = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    wita = timezone(timedelta(hours=8), "WITA")
    edge = datetime(9999, 12, 31, 20, 0, tzinfo=UTC)  # past datetime.max in WIB
    variants = [
        (complaint(), "sidumas"),
        (complaint(), "pengaduan"),
        (complaint(raw_status=RawStatus(code="1", label="Diverifikasi")), "sidumas"),
        (complaint(raw_status=RawStatus(code="1")), "sidumas"),
        (complaint(raw_status=RawStatus(code="2")), "sidumas"),
        (complaint(status=Status.CLOSED, raw_status=RawStatus()), "sidumas"),
        (complaint(status=Status.NEW, raw_status=RawStatus()), "sidumas"),
        (complaint(created_at=created + timedelta(minutes=1)), "sidumas"),
        (complaint(created_at=created.astimezone(wita)), "sidumas"),
        (complaint(created_at=None), "sidumas"),
        # The same instant at the calendar's edge, where the note shows each in its own zone.
        (complaint(created_at=edge), "sidumas"),
        (complaint(created_at=edge.astimezone(timezone(timedelta(hours=-2)))), "sidumas"),
        (complaint(), "sidumas"),
    ]
    for item, origin in variants:
        fresh = load_mapping(MAPPINGS / "lapor.toml")
        expected = fresh.to_native(item, origin=origin)["content"]
        assert mapping.to_native(item, origin=origin)["content"] == expected
        part = mapping.to_native_part(item, IDENTITY_FIELDS, origin=origin)
        assert part["content"] == expected
