"""The LAPOR! admin panel's Excel export (DOMAIN.md §2 "Gaps"), written from the simulator's state.

An agency that cannot list its complaints through the API downloads this file from the admin
panel; the ``spreadsheet`` connector with ``mappings/lapor-export.toml`` reads it back. The
column names are confirmed [C]; the metadata rows above the header, the spelling of the report
types and channels, and the date format are our assumptions [A], shared with the mapping file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook

from bridge.testing.simulators._common import WIB
from bridge.testing.simulators.lapor_rules import STATUSES, institution_name
from bridge.testing.simulators.lapor_state import LaporState

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # must stay the first of date_formats in lapor-export.toml
COLUMNS = (
    "Tracking ID",
    "Tanggal Laporan Masuk",
    "Nama Pelapor",
    "Klasifikasi Laporan",
    "ID Kategori",
    "Kategori",
    "Judul Laporan",
    "Isi Laporan Awal",
    "Isi Laporan Akhir",
    "Tipe Laporan (Anonim/Rahasia)",
    "Sumber Laporan",
    "ID Instansi Terdisposisi",
    "Instansi Terdisposisi",
    "Status Laporan",
    "Alasan Tunda/Arsip",
    "Provinsi",
    "Kota/Kabupaten",
    "Kecamatan",
    "Kelurahan",
    "Rating",
)
CLASSIFICATIONS = {1: "Pengaduan", 2: "Aspirasi", 3: "Permintaan Informasi"}
CATEGORIES = {
    1: "Infrastruktur",
    2: "Kependudukan",
    3: "Kesehatan",
    4: "Pendidikan",
    5: "Lingkungan Hidup",
    6: "Perizinan",
    7: "Sosial",
    8: "Lainnya",
}
CHANNELS = {1: "Website", 2: "SMS 1708", 3: "Aplikasi Mobile", 9: "Integrasi"}
# (is_anonymous, is_secret) -> the text in "Tipe Laporan (Anonim/Rahasia)".
REPORT_TYPES = {
    (False, False): "Biasa",
    (True, False): "Anonim",
    (False, True): "Rahasia",
    (True, True): "Anonim dan Rahasia",
}
ARCHIVED = 4
ARCHIVE_REASON = "Laporan tidak dapat ditindaklanjuti"


def write_export(
    state: LaporState, path_or_stream: str | Path | IO[bytes], *, institution_id: int | None = None
) -> None:
    """Write the complaints (only those disposed to ``institution_id`` if given) as an export."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Laporan")
    for row in _rows(state, institution_id):
        sheet.append(row)
    workbook.save(path_or_stream)


def _rows(state: LaporState, institution_id: int | None) -> Iterator[list[Any]]:
    exported = state.clock().astimezone(WIB).strftime(DATE_FORMAT)
    scope = institution_name(institution_id) if institution_id is not None else "Semua Instansi"
    yield ["Laporan SP4N-LAPOR!"]
    yield [f"Diekspor: {exported}"]
    yield [f"Instansi: {scope or institution_id}"]
    yield []
    yield list(COLUMNS)
    records = state.list_complaints(disposition_id=institution_id)
    for rec in sorted(records, key=lambda r: (r["created_at"], r["id"])):
        yield export_row(rec)


def export_row(rec: dict[str, Any]) -> list[Any]:
    """One complaint as the export's row, in ``COLUMNS`` order."""
    status = rec["status_code"]
    flags = (bool(rec["is_anonymous"]), bool(rec["is_secret"]))
    return [
        rec["id"],
        datetime.fromisoformat(rec["created_at"]).astimezone(WIB).strftime(DATE_FORMAT),
        _reporter_name(rec),
        CLASSIFICATIONS.get(rec.get("classification_id") or 0),
        rec["category_id"],
        CATEGORIES.get(rec["category_id"]),
        rec["title"],
        rec["content"],
        rec["content"] if status > 0 else None,  # the admin's edited text, once verified
        REPORT_TYPES[flags],
        CHANNELS.get(rec.get("channel") or 0),
        rec["disposition_id"],
        institution_name(rec["disposition_id"]),
        STATUSES[status],
        ARCHIVE_REASON if status == ARCHIVED else None,
        None,  # the simulator keeps a region code only, no place names
        None,
        None,
        None,
        _rating(rec),
    ]


def _reporter_name(rec: dict[str, Any]) -> str | None:
    if rec["is_anonymous"]:
        return "Anonim"
    reporter = rec.get("reporter") or {}
    if reporter.get("nameUser"):
        return str(reporter["nameUser"])
    if reporter.get("user_id"):
        return f"Pengguna {reporter['user_id']}"
    return None


def _rating(rec: dict[str, Any]) -> int | None:
    ratings = [f["rating"] for f in rec.get("followups", []) if f.get("rating") is not None]
    return ratings[-1] if ratings else None
