"""Fuzzing the mapping layer: whatever a system serves, a mapping answers or raises RecordError.

The engine sets a record aside on ``RecordError`` and goes on; any other exception stops
the whole cycle (TRAPS.md "Stalling": one bad record aborts the run). So for every shipped
mapping file, these properties must hold:

- arbitrary JSON-like records, and valid records with one value (or one whole branch)
  replaced by junk, given to ``native_id`` / ``native_updated_at`` / ``to_canonical``
  (and ``followup_to_canonical``) return a valid value or raise ``RecordError``;
- arbitrary valid canonical complaints and follow-ups given to ``to_native`` /
  ``followup_to_native`` / ``status_to_native`` return a payload or raise ``RecordError``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.errors import RecordError
from bridge.model import Attachment, Complaint, FollowUp, Location, Reporter, Status
from tests.conftest import MAPPINGS
from tests.hostile.conftest import mapping as shipped_mapping  # compiled once, not per example
from tests.mapping.test_mapping_roundtrip import lapor_records, sidumas_records

SHIPPED = sorted(path.name for path in MAPPINGS.glob("*.toml"))
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# -- junk ------------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**308, max_value=10**320)  # too big for a float
    | st.floats()  # nan and infinities included
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "",
            " ",
            "0002-01-01 00:00:00",
            "2024-02-31 10:00:00",
            "9999-99-99",
            "31/02/2024",
            "2024-03-05T10:00:00+99:00",
            "1e999",
            "NaN",
            "<script>alert(1)</script>",
            "\x00",
            "\ud800",  # a lone surrogate: what a JSON "\ud800" escape decodes to
            "3201010101010001",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


# -- valid native records, one per shipped mapping --------------------------------------------

GOOD: dict[str, dict[str, Any]] = {
    "sidumas.toml": {
        "id": 17,
        "no_tiket": "SDM-2026-000017",
        "topik": "Jalan berlubang",
        "uraian": "Di depan pasar.",
        "tanggal": "2026-03-01 10:00:00",
        "updated_at": "2026-03-02 10:00:00",
        "pelapor": "Made Wirawan",
        "nik": "5103011201900001",
        "telp": "081234567890",
        "email": "made@example.id",
        "user_id": 7,
        "kategori_id": 1,
        "status": 2,
        "status_pengaduan": "Diproses",
        "koordinat_lat": -8.6,
        "koordinat_lng": 115.2,
        "alamat": "Jl. Raya Kuta",
        "hide_identitas": 0,
        "hide_pengaduan": "0",
        "opd_id": 201,
        "ref_eksternal": "lb0123456789abcdef",
        "files": [{"nama": "foto.png", "url": "http://127.0.0.1/api/files/foto.png"}],
        "tanggapans": [
            {"id": 5, "tipe": 1, "tanggapan": "Sudah ditangani.", "nama": "PUPR",
             "created_at": "2026-03-02 09:00:00", "files": []}
        ],
    },
    "lapor.toml": {
        "id": 4100001,
        "title": "Lampu jalan mati",
        "content": "Sudah seminggu.",
        "status_code": 2,
        "status_name": "Dalam Proses",
        "disposition_id": 1001,
        "disposition_name": "Pemerintah Kabupaten Badung",
        "category_id": 1,
        "classification_id": 1,
        "is_anonymous": 0,
        "is_secret": 0,
        "date_of_incident": "05/03/2026",
        "created_at": "2026-03-05 08:00:00",
        "updated_at": "2026-03-05T09:00:00+07:00",
        "tags_raw": "#jalan #lb0123456789abcdef",
        "location_detail": "Jl. Sunset Road",
        "latitude": -8.7,
        "longitude": 115.17,
        "attachments": [{"id": 3, "name": "foto.png"}],
    },
    "lapor-export.toml": {
        "Tracking ID": 4100001,
        "Tanggal Laporan Masuk": "2026-03-05 08:00:00",
        "Nama Pelapor": "Siti Aminah",
        "Klasifikasi Laporan": "Pengaduan",
        "ID Kategori": 3,
        "Judul Laporan": "Puskesmas tutup",
        "Isi Laporan Awal": "Puskesmas tutup di jam kerja.",
        "Tipe Laporan (Anonim/Rahasia)": "Biasa",
        "Sumber Laporan": "Website",
        "ID Instansi Terdisposisi": 1001,
        "Instansi Terdisposisi": "Pemerintah Kabupaten Badung",
        "Status Laporan": "Dalam Proses",
        "Provinsi": "Bali",
        "Kota/Kabupaten": "Badung",
        "Kecamatan": "Kuta",
        "Kelurahan": "Kuta",
    },
    "open311.toml": {
        "service_request_id": "1001",
        "status": "open",
        "service_name": "Jalan berlubang",
        "service_code": "pothole",
        "description": "Lubang besar.",
        "agency_responsible": "Pemerintah Kabupaten Badung",
        "requested_datetime": "2026-03-05T08:00:00+08:00",
        "updated_datetime": "2026-03-05T09:00:00+08:00",
        "address": "Banjar 3",
        "lat": -8.7,
        "long": 115.2,
        "bridge_ref": "lb0123456789abcdef",
    },
    "pengaduan-php.toml": {
        "id_pengaduan": 12,
        "tgl_pengaduan": "2026-03-05",
        "nik": "3201010101010001",
        "judul": "Jalan rusak",
        "isi_laporan": "Jalan di RT 3 berlubang",
        "foto": None,
        "status": "proses",
        "updated_at": "2026-03-05T10:00:00.123456",
        "pelapor": {"nik": "3201010101010001", "nama": "Budi", "username": "budi", "telp": "0812"},
        "tanggapan_list": [
            {"id_tanggapan": 1, "id_pengaduan": 12, "tgl_tanggapan": "2026-03-06",
             "tanggapan": "Diteruskan.", "id_petugas": 1}
        ],
    },
}  # fmt: skip

FOLLOWUP: dict[str, dict[str, Any]] = {
    "sidumas.toml": GOOD["sidumas.toml"]["tanggapans"][0],
    "lapor.toml": {
        "id": 9,
        "content": "Sedang ditangani.",
        "created_at": "05-03-2026 10:00:00",
        "institution_from_id": 1001,
        "institution_to_id": None,
        "institution_from_name": "Pemerintah Kabupaten Badung",
        "attachments": [],
        "is_secret": 0,
    },
    "open311.toml": {
        "id": "u1",
        "update_id": "u1",
        "description": "Sudah ditambal.",
        "updated_datetime": "2026-03-06T08:00:00+08:00",
    },
    "pengaduan-php.toml": GOOD["pengaduan-php.toml"]["tanggapan_list"][0],
}


def test_every_shipped_mapping_has_a_valid_sample() -> None:
    """The samples below are valid for their mapping, so the junk tests start from a good record."""
    assert set(GOOD) == set(SHIPPED)
    for name in SHIPPED:
        mapping = shipped_mapping(name)
        assert isinstance(mapping.to_canonical(copy.deepcopy(GOOD[name])), Complaint)
        if name in FOLLOWUP:
            assert isinstance(mapping.followup_to_canonical(dict(FOLLOWUP[name])), FollowUp)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path of a record (dict keys and list indexes), branches and leaves alike."""
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


_DELETE = object()


def _replace(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


@st.composite
def junked(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with one value (or one whole branch) replaced by junk, or removed."""
    path = draw(st.sampled_from(list(_paths(base))))
    if draw(st.booleans()) and not isinstance(path[-1], int):
        return _replace(base, path, _DELETE)
    return _replace(base, path, draw(JSON))


def _native_strategy(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Arbitrary records, and valid ones (realistic ones for two systems) with a field of junk."""
    base = GOOD[name]
    arbitrary = st.dictionaries(st.sampled_from(sorted(base)) | st.text(max_size=6), JSON)
    strategies = [arbitrary, junked(base)]
    if name == "sidumas.toml":
        strategies.append(sidumas_records().flatmap(junked))
    if name == "lapor.toml":
        strategies.append(lapor_records().flatmap(junked))
    return st.one_of(strategies)


def _only_record_errors(call: Callable[[], Any]) -> Any:
    """The call's result, or None when it raised RecordError; anything else fails the test."""
    try:
        return call()
    except RecordError as exc:
        reason = exc.reason
    assert reason, "a RecordError must say why"
    # Reasons are stored and shown: they may quote a short piece of a value, never dump it.
    assert "input_value" not in reason, reason
    json.dumps(reason)  # a reason is storable text
    return None


@pytest.mark.parametrize("name", SHIPPED)
@FUZZ
@given(data=st.data())
def test_native_records_map_or_raise_record_error(name: str, data: st.DataObject) -> None:
    """native_id, native_updated_at and to_canonical of any record: a value or RecordError."""
    mapping = shipped_mapping(name)
    record = data.draw(_native_strategy(name), label="record")
    native_id = _only_record_errors(lambda: mapping.native_id(record))
    assert native_id is None or (isinstance(native_id, str) and native_id.strip())
    updated = _only_record_errors(lambda: mapping.native_updated_at(record))
    assert updated is None or updated.utcoffset() is not None
    complaint = _only_record_errors(lambda: mapping.to_canonical(record))
    if complaint is not None:
        assert isinstance(complaint, Complaint)
        assert complaint.source_id == native_id
        # What the engine does next with a mapped complaint must not fail either.
        Complaint.model_validate(complaint.model_dump())
        json.dumps(complaint.model_dump(mode="json", exclude={"attachments"}))


@pytest.mark.parametrize("name", sorted(FOLLOWUP))
@FUZZ
@given(data=st.data())
def test_native_followups_map_or_raise_record_error(name: str, data: st.DataObject) -> None:
    """followup_to_canonical of any follow-up record: a FollowUp or RecordError."""
    mapping = shipped_mapping(name)
    base = FOLLOWUP[name]
    arbitrary = st.dictionaries(st.sampled_from(sorted(base)) | st.text(max_size=6), JSON)
    record: Any = data.draw(arbitrary | junked(base) | JSON, label="followup")
    followup = _only_record_errors(lambda: mapping.followup_to_canonical(record))
    assert followup is None or isinstance(followup, FollowUp)


# -- valid canonical complaints ---------------------------------------------------------------

CATEGORIES: tuple[str, ...] = (
    "infrastruktur",
    "kependudukan",
    "kesehatan",
    "pendidikan",
    "lingkungan",
    "perizinan",
    "sosial",
    "lainnya",
)
# Text a valid complaint can hold: anything but lone surrogates (pydantic refuses those).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
NONEMPTY = TEXT.filter(str.strip)
OPTIONAL = st.none() | TEXT
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-12)), ZoneInfo("Asia/Jayapura")]
)
# Any aware time a valid complaint can hold, the extremes of datetime included.
EXTREMES = st.sampled_from([datetime.min, datetime.max]).flatmap(
    lambda moment: ZONES.map(lambda zone: moment.replace(tzinfo=zone))
)
AWARE = st.datetimes(timezones=ZONES) | EXTREMES
NUMBER = st.none() | st.floats(allow_nan=False, allow_infinity=False)
ATTACHMENT = st.builds(
    Attachment,
    filename=NONEMPTY,
    url=OPTIONAL,
    content_type=OPTIONAL,
    size=st.none() | st.integers(min_value=0, max_value=10**12),
)
FOLLOWUPS = st.builds(
    FollowUp,
    source_id=NONEMPTY,
    content=TEXT,
    created_at=st.none() | AWARE,
    author=OPTIONAL,
    institution_from=OPTIONAL,
    institution_to=OPTIONAL,
    is_official=st.booleans(),
    is_secret=st.booleans(),
    attachments=st.lists(ATTACHMENT, max_size=2).map(tuple),
)
COMPLAINTS = st.builds(
    Complaint,
    source_id=NONEMPTY,
    title=st.text(st.characters(exclude_categories=["Cs"]), max_size=500),
    content=TEXT,
    category=st.none() | st.sampled_from(CATEGORIES) | TEXT,
    classification=st.none() | st.sampled_from(["pengaduan", "aspirasi"]) | TEXT,
    report_type=OPTIONAL,
    channel=OPTIONAL,
    reporter=st.builds(
        Reporter, name=OPTIONAL, nik=OPTIONAL, phone=OPTIONAL, email=OPTIONAL, user_id=OPTIONAL
    ),
    location=st.builds(
        Location,
        address=OPTIONAL,
        lat=NUMBER,
        lng=NUMBER,
        location_id=st.none() | st.from_regex(r"[0-9]{1,6}", fullmatch=True) | TEXT,
    ),
    incident_date=st.none() | st.dates(min_value=date(1, 1, 1)),
    created_at=st.none() | AWARE,
    updated_at=st.none() | AWARE,
    is_anonymous=st.booleans(),
    is_secret=st.booleans(),
    status=st.none() | st.sampled_from(Status),
    institution_id=OPTIONAL,
    ticket=OPTIONAL,
    ref=OPTIONAL,
    tags=st.lists(TEXT, max_size=3).map(tuple),
    attachments=st.lists(ATTACHMENT, max_size=2).map(tuple),
    followups=st.lists(FOLLOWUPS, max_size=2).map(tuple),
)


@pytest.mark.parametrize("name", SHIPPED)
@FUZZ
@given(complaint=COMPLAINTS, status=st.sampled_from(Status))
def test_canonical_complaints_write_or_raise_record_error(
    name: str, complaint: Complaint, status: Status
) -> None:
    """to_native of any valid complaint, status_to_native of any status: payload or RecordError."""
    mapping = shipped_mapping(name)
    payload = _only_record_errors(lambda: mapping.to_native(complaint))
    if payload is not None:
        assert isinstance(payload, dict)
        json.dumps(payload)  # what the HTTP connectors send as JSON
    written = _only_record_errors(lambda: mapping.status_to_native(status))
    assert written is None or isinstance(written, dict)


@pytest.mark.parametrize("name", sorted(FOLLOWUP))
@FUZZ
@given(followup=FOLLOWUPS)
def test_canonical_followups_write_or_raise_record_error(name: str, followup: FollowUp) -> None:
    """followup_to_native of any valid follow-up: a payload or RecordError."""
    mapping = shipped_mapping(name)
    payload = _only_record_errors(lambda: mapping.followup_to_native(followup))
    assert payload is None or isinstance(payload, dict)


# -- values found by fuzzing, kept as plain examples (Hypothesis cannot even print some) -----

HUGE = 10**5000  # more digits than Python will print (its 4,300-digit limit)
FOUND: list[tuple[str, str, dict[str, Any], str]] = [
    # (mapping, what, changes to its valid sample, the field the RecordError names)
    ("sidumas.toml", "an id too long to print", {"id": HUGE}, "source_id"),
    ("sidumas.toml", "a coordinate beyond a float", {"koordinat_lat": 10**400}, "location.lat"),
    ("sidumas.toml", "a status code too long to print", {"status": HUGE}, "status"),
    ("lapor.toml", "a file name that is a number", {"attachments": [{"name": 5}]}, "attachments"),
    ("sidumas.toml", "a follow-up that is a list", {"tanggapans": [["a"]]}, "followups"),
    (
        "sidumas.toml",
        "a file url that is an object holding a phone number",
        {"files": [{"nama": "a.png", "url": {"telp": "081234567890"}}]},
        "attachments",
    ),
]


@pytest.mark.parametrize(
    ("name", "what", "changes", "field"), FOUND, ids=[f"{m}: {w}" for m, w, _, _ in FOUND]
)
def test_values_found_by_fuzzing_are_record_errors(
    name: str, what: str, changes: dict[str, Any], field: str
) -> None:
    """Each once raised ValueError or OverflowError, quoted the value, or named "followups.None"."""
    record = {**copy.deepcopy(GOOD[name]), **changes}
    with pytest.raises(RecordError) as raised:
        shipped_mapping(name).to_canonical(record)
    assert raised.value.field == field
    assert "input_value" not in str(raised.value)
    assert "0812" not in str(raised.value)


@pytest.mark.parametrize(
    "moment", [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)]
)
def test_a_time_at_the_edge_of_datetime_is_not_written(moment: datetime) -> None:
    """Writing datetime.min/max in a +7 zone once raised OverflowError; now RecordError."""
    complaint = Complaint(source_id="1", title="t", content="c", created_at=moment)
    with pytest.raises(RecordError, match="year"):
        shipped_mapping("pengaduan-php.toml").to_native(complaint)
