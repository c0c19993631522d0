"""Applying mappings to records: time zones, dates, required fields, value maps, yes/no."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.errors import RecordInvalid
from bridge.mapping import Mapping, load_mapping
from bridge.model import Complaint, FollowUp, RawStatus, Status

WITA = ZoneInfo("Asia/Makassar")
WIB = ZoneInfo("Asia/Jakarta")


def sidumas_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 42,
        "no_tiket": "SDM-0042",
        "topik": "Jalan berlubang",
        "uraian": "Jalan Raya Kerobokan rusak parah.",
        "tanggal": "2024-03-01 10:15:00",
        "pelapor": "Budi",
        "user_id": 7,
        "nik": "5103000000000001",
        "telp": "0812000000",
        "email": "budi@example.id",
        "kategori_id": 1,
        "kategori_name": "Infrastruktur",
        "status": 2,
        "status_pengaduan": "Diproses",
        "koordinat_lat": "-8.65",
        "koordinat_lng": "115.17",
        "alamat": "Jl. Raya Kerobokan",
        "hide_identitas": 0,
        "hide_pengaduan": "0",
        "opd_id": 12,
        "files": [{"nama": "foto.jpg", "url": "https://sidumas.example/f/foto.jpg"}],
        "tanggapans": [],
    }
    record.update(changes)
    return record


def lapor_record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 1990001,
        "title": "KTP elektronik belum jadi",
        "content": "Sudah tiga bulan.",
        "status_code": 1,
        "status_name": "Terverifikasi",
        "disposition_id": 1001,
        "disposition_name": "Pemerintah Kabupaten Badung",
        "category_id": 2,
        "is_anonymous": 1,
        "is_secret": 0,
        "tags_raw": "#ktp #lb0123456789abcdef",
        "date_of_incident": "05/02/2024",
        "created_at": "01-03-2024 09:00:00",
        "updated_at": "2024-03-02 11:30:00",
    }
    record.update(changes)
    return record


def complaint(**changes: Any) -> Complaint:
    values: dict[str, Any] = {
        "source_id": "1",
        "title": "Lampu jalan mati",
        "content": "Sudah sebulan gelap.",
        "category": "infrastruktur",
        "incident_date": date(2024, 2, 5),
        "is_anonymous": True,
        "is_secret": False,
        "tags": ("lampu", "lb0123456789abcdef"),
    }
    return Complaint(**(values | changes))


# ---- time -----------------------------------------------------------------------------------


def test_naive_timestamps_get_the_mappings_zone(sidumas: Mapping) -> None:
    """A naive SIDUMAS `tanggal` is read as WITA (UTC+8)."""
    created = sidumas.to_canonical(sidumas_record()).created_at
    assert created == datetime(2024, 3, 1, 10, 15, tzinfo=WITA)
    assert created is not None
    assert created.utcoffset() == timedelta(hours=8)


def test_timestamps_with_an_offset_keep_it(sidumas: Mapping) -> None:
    """An ISO time with an offset keeps that offset instead of the mapping's zone."""
    created = sidumas.to_canonical(sidumas_record(tanggal="2024-03-01T02:15:00Z")).created_at
    assert created is not None
    assert created.utcoffset() == timedelta(0)
    assert created == datetime(2024, 3, 1, 10, 15, tzinfo=WITA)


def test_every_declared_date_format_is_tried_in_order(lapor: Mapping) -> None:
    """LAPOR! times come as Y-m-d and as d-m-Y; both read as WIB."""
    c = lapor.to_canonical(lapor_record())
    assert c.created_at == datetime(2024, 3, 1, 9, 0, tzinfo=WIB)
    assert c.updated_at == datetime(2024, 3, 2, 11, 30, tzinfo=WIB)
    assert c.incident_date == date(2024, 2, 5)


@pytest.mark.parametrize(
    "value", ["2024-02-30 10:00:00", "0002-01-01 00:00:00", "2999-01-01 00:00:00", "kemarin", 17]
)
def test_impossible_dates_are_invalid_and_name_the_field(sidumas: Mapping, value: object) -> None:
    """Feb 30, year 0002, year 2999 and non-dates are RecordInvalid for created_at."""
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_canonical(sidumas_record(tanggal=value))
    assert caught.value.field == "created_at"


def test_impossible_incident_date_names_the_field(lapor: Mapping) -> None:
    """A d/m/Y incident date in year 0002 is RecordInvalid for incident_date."""
    with pytest.raises(RecordInvalid) as caught:
        lapor.to_canonical(lapor_record(date_of_incident="01/01/0002"))
    assert caught.value.field == "incident_date"
    assert "1990" in caught.value.reason


def test_updated_at_is_read_aware_in_each_systems_zone(lapor: Mapping, sidumas: Mapping) -> None:
    """LAPOR! updated_at reads as WIB, SIDUMAS's as WITA; a record without one has None."""
    assert lapor.has_updated_at
    assert sidumas.has_updated_at
    assert lapor.native_updated_at(lapor_record()) == datetime(2024, 3, 2, 4, 30, tzinfo=UTC)
    assert lapor.native_updated_at(lapor_record(updated_at=None)) is None
    assert sidumas.native_updated_at(sidumas_record()) is None
    stamped = sidumas_record(updated_at="2024-03-05 08:00:00")
    assert sidumas.native_updated_at(stamped) == datetime(2024, 3, 5, 0, 0, tzinfo=UTC)
    assert sidumas.to_canonical(stamped).updated_at == datetime(2024, 3, 5, 8, 0, tzinfo=WITA)
    with pytest.raises(RecordInvalid) as caught:
        lapor.native_updated_at(lapor_record(updated_at="soon"))
    assert caught.value.field == "updated_at"


# ---- ids, required fields, value maps --------------------------------------------------------


def test_native_id_is_text_and_required(sidumas: Mapping) -> None:
    """An integer id becomes text; a missing or empty id is RecordInvalid."""
    assert sidumas.native_id(sidumas_record()) == "42"
    assert sidumas.to_canonical(sidumas_record()).source_id == "42"
    for bad in (None, "", "  "):
        with pytest.raises(RecordInvalid) as caught:
            sidumas.native_id(sidumas_record(id=bad))
        assert caught.value.field == "source_id"


@pytest.mark.parametrize(
    ("native", "field"), [("topik", "title"), ("uraian", "content"), ("kategori_id", "category")]
)
@pytest.mark.parametrize("missing", [None, "", "   "])
def test_missing_required_field_is_invalid_and_named(
    sidumas: Mapping, native: str, field: str, missing: object
) -> None:
    """An absent or blank required field is RecordInvalid naming the canonical field."""
    record = sidumas_record(**{native: missing})
    if missing is None:
        del record[native]
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_canonical(record)
    assert caught.value.field == field


def test_unknown_category_is_invalid(sidumas: Mapping) -> None:
    """A category code missing from the strict category map is RecordInvalid."""
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_canonical(sidumas_record(kategori_id=99))
    assert caught.value.field == "category"
    assert "[values.category]" in caught.value.reason


def test_unknown_status_leaves_status_none_and_keeps_raw(sidumas: Mapping) -> None:
    """An unmapped status code is not an error: status None, raw code and label kept."""
    c = sidumas.to_canonical(sidumas_record(status=9, status_pengaduan="Ditinjau"))
    assert c.status is None
    assert c.raw_status == RawStatus(code="9", label="Ditinjau")


def test_known_status_is_mapped_and_raw_kept(sidumas: Mapping) -> None:
    """A mapped status code gives the canonical status beside the raw values."""
    c = sidumas.to_canonical(sidumas_record())
    assert c.status is Status.IN_PROGRESS
    assert c.raw_status == RawStatus(code="2", label="Diproses")


def test_lapor_status_label_wins_over_an_assumed_code(lapor: Mapping) -> None:
    """LAPOR! status names are confirmed and win; codes only decide when the name is unknown."""
    assert lapor.to_canonical_status("3", "Ditolak") is Status.REJECTED
    assert lapor.to_canonical_status("3", "Label baru") is Status.CLOSED
    assert lapor.to_canonical_status(None, "ditutup oleh admin/sistem") is Status.CLOSED
    assert lapor.to_canonical_status("99", None) is None


def test_other_fields_are_read_through_nested_groups(sidumas: Mapping) -> None:
    """Reporter, location, flags, institution and files land in their canonical places."""
    c = sidumas.to_canonical(sidumas_record())
    assert (c.reporter.name, c.reporter.nik, c.reporter.user_id) == (
        "Budi",
        "5103000000000001",
        "7",
    )
    assert (c.location.lat, c.location.lng) == (-8.65, 115.17)
    assert (c.category, c.institution_id, c.ticket) == ("infrastruktur", "12", "SDM-0042")
    assert c.attachments[0].filename == "foto.jpg"


# ---- yes/no ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, True), (0, False), ("1", True), ("0", False), (True, True), (False, False),
        ("true", True), ("False", False), ("ya", True), ("Tidak", False), ("yes", True),
        ("no", False), (" Y ", True), ("n", False), (1.0, True),
    ],
)  # fmt: skip
def test_booleans_accept_their_many_spellings(
    sidumas: Mapping, raw: object, expected: bool
) -> None:
    """1/0, "1"/"0", true/false, ya/tidak, yes/no, y/n all read as yes/no."""
    assert sidumas.to_canonical(sidumas_record(hide_identitas=raw)).is_anonymous is expected


@pytest.mark.parametrize("raw", ["mungkin", 2, [1]])
def test_unreadable_boolean_is_invalid(sidumas: Mapping, raw: object) -> None:
    """A yes/no value in no known spelling is RecordInvalid for that field."""
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_canonical(sidumas_record(hide_pengaduan=raw))
    assert caught.value.field == "is_secret"


# ---- writing ---------------------------------------------------------------------------------


def test_lapor_create_payload(lapor: Mapping) -> None:
    """to_native for LAPOR! carries the constants, d/m/Y incident date, hashtags and 0/1 flags.

    The agency's identity is not among them: the connector writes it from [agency].
    """
    reporter = {"name": "Siti", "phone": "0813", "email": "siti@example.id"}
    payload = lapor.to_native(complaint(reporter=reporter))
    assert payload["is_new_user_slider"] is True
    assert payload["date_of_incident"] == "05/02/2024"
    assert payload["tags_raw"] == "#lampu #lb0123456789abcdef"
    assert (payload["is_anonymous"], payload["is_secret"], payload["is_priority"]) == (1, 0, 0)
    assert (payload["title"], payload["category_id"]) == ("Lampu jalan mati", 1)
    assert not {"disposition_id", "channel"} & set(payload)
    assert (payload["nameUser"], payload["phoneUser"], payload["emailUser"]) == (
        "Siti",
        "0813",
        "siti@example.id",
    )
    assert "attachments" not in payload


def test_anonymous_complaint_stripped_by_engine_writes_no_reporter(lapor: Mapping) -> None:
    """With the reporter removed (as the engine does for anonim), no reporter key is written."""
    payload = lapor.to_native(complaint(reporter={"name": "Siti"}).without_identity())
    assert not {"nameUser", "phoneUser", "emailUser"} & payload.keys()


def test_tags_are_written_as_one_hashtag_each(lapor: Mapping) -> None:
    """A tag with spaces stays one hashtag; an empty tag list writes no tags_raw."""
    assert (
        lapor.to_native(complaint(tags=("jalan rusak", "lb1")))["tags_raw"] == "#jalan_rusak #lb1"
    )
    assert "tags_raw" not in lapor.to_native(complaint(tags=()))
    assert lapor.to_canonical(lapor_record(tags_raw="#a, #b  #a")).tags == ("a", "b")


def test_category_without_native_code_cannot_be_written(sidumas: Mapping) -> None:
    """Without a fallback, a category the target has no code for is RecordInvalid on write.

    (lapor.toml has a fallback since issue 12: see test_mapping_fallback.)
    """
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_native(complaint(category="pariwisata"))
    assert caught.value.field == "category"


def test_required_field_without_value_cannot_be_written(sidumas: Mapping) -> None:
    """A complaint with no category cannot be created where category is required."""
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_native(complaint(category=None))
    assert caught.value.field == "category"


def test_sidumas_create_payload(sidumas: Mapping) -> None:
    """to_native for SIDUMAS writes its add-form keys with 0/1 flags and the integer category."""
    c = complaint(reporter={"name": "Budi"}, location={"lat": -8.6, "lng": 115.2, "address": "Jl"})
    payload = sidumas.to_native(c)
    assert payload == {
        "topik": "Lampu jalan mati",
        "uraian": "Sudah sebulan gelap.",
        "kategori_id": 1,
        "atas_nama": "Budi",
        "lat": -8.6,
        "lng": 115.2,
        "alamat": "Jl",
        "hide_identitas": 1,
        "hide_pengaduan": 0,
    }


# ---- follow-ups ------------------------------------------------------------------------------


def test_sidumas_followups_are_read_from_the_record(sidumas: Mapping) -> None:
    """Embedded tanggapans become follow-ups; tipe 1 is official, others are not."""
    tanggapans = [
        {"id": 5, "tipe": 1, "status_id": 2, "tanggapan": "Sudah diperbaiki", "nama": "PUPR",
         "files": [], "created_at": "2024-03-04 08:00:00"},
        {"id": 6, "tipe": 2, "tanggapan": "Terima kasih", "nama": "Budi", "files": []},
    ]  # fmt: skip
    followups = sidumas.to_canonical(sidumas_record(tanggapans=tanggapans)).followups
    assert [f.source_id for f in followups] == ["5", "6"]
    assert [f.is_official for f in followups] == [True, False]
    assert followups[0].created_at == datetime(2024, 3, 4, 8, 0, tzinfo=WITA)


def test_invalid_embedded_followup_names_the_followup_field(sidumas: Mapping) -> None:
    """A follow-up without content makes the complaint RecordInvalid at followups.content."""
    with pytest.raises(RecordInvalid) as caught:
        sidumas.to_canonical(sidumas_record(tanggapans=[{"id": 1, "tipe": 1}]))
    assert caught.value.field == "followups.content"


def test_lapor_followups_both_ways(lapor: Mapping) -> None:
    """A LAPOR! follow-up reads d-m-Y times as WIB; the sender is the connector's ([agency])."""
    record = {"id": 77, "content": "Sedang ditangani", "created_at": "04-03-2024 13:05:00",
              "institution_from_id": 1001, "is_secret": 0}  # fmt: skip
    followup = lapor.followup_to_canonical(record)
    assert followup == FollowUp(
        source_id="77",
        content="Sedang ditangani",
        created_at=datetime(2024, 3, 4, 13, 5, tzinfo=WIB),
        institution_from="1001",
    )
    payload = lapor.followup_to_native(followup.model_copy(update={"is_secret": True}))
    assert payload == {"content": "Sedang ditangani", "is_secret": 1}


def test_mapping_without_followups_refuses_them(write_mapping: Callable[..., Path]) -> None:
    """followup_to_canonical on a mapping with no [followups] is RecordInvalid."""
    mapping = load_mapping(write_mapping(NESTED))
    assert not mapping.has_followups
    with pytest.raises(RecordInvalid):
        mapping.followup_to_canonical({"id": 1, "content": "x"})


# ---- paths -----------------------------------------------------------------------------------

NESTED = """
[mapping]
system = "nested"
timezone = "Asia/Jayapura"
id = "results.data.id"
[fields]
title = { read = "results.data.title", write = "judul" }
content = { read = "results.data.body", write = "isi.teks" }
"location.address" = { read = "results.data.places.1.name", write = false }
channel = { read = false, write = "channel" }
[defaults]
channel = "web"
"""


def test_dotted_paths_address_nested_objects_and_lists(
    write_mapping: Callable[..., Path],
) -> None:
    """Read paths walk dicts and index lists; write paths build nested dicts."""
    mapping = load_mapping(write_mapping(NESTED))
    record = {"results": {"data": {"id": 3, "title": "T", "body": "B",
                                    "places": [{"name": "a"}, {"name": "b"}]}}}  # fmt: skip
    c = mapping.to_canonical(record)
    assert (c.source_id, c.title, c.content, c.location.address, c.channel) == (
        "3",
        "T",
        "B",
        "b",
        "web",
    )
    assert mapping.to_native(c) == {"judul": "T", "isi": {"teks": "B"}, "channel": "web"}
    assert mapping.timezone == ZoneInfo("Asia/Jayapura")
