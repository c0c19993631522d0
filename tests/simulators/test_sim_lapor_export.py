"""The simulator's admin export, read back by the spreadsheet connector and lapor-export.toml."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from bridge.connectors.spreadsheet import SpreadsheetConnector, SpreadsheetSettings
from bridge.mapping import load_mapping
from bridge.model import Complaint
from bridge.testing.simulators._common import ManualClock
from bridge.testing.simulators.corpus import CorpusEntry
from bridge.testing.simulators.lapor import create_app
from bridge.testing.simulators.lapor_export import COLUMNS, write_export
from bridge.testing.simulators.lapor_rules import STATUSES
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer

MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "lapor-export.toml"
STATUS_NAMES = {
    "Belum Terverifikasi": "new",
    "Terverifikasi": "verified",
    "Dalam Proses": "in_progress",
    "Selesai": "closed",
    "Diarsipkan": "archived",
    "Ditolak": "rejected",
    "Ditutup oleh Admin/Sistem": "closed",
}
CATEGORIES = {1: "infrastruktur", 2: "kependudukan", 3: "kesehatan", 4: "pendidikan"}
CATEGORIES |= {5: "lingkungan", 6: "perizinan", 7: "sosial", 8: "lainnya"}


@pytest.fixture
def state(clock: ManualClock, corpus: list[CorpusEntry]) -> LaporState:
    """Sixty seeded complaints with every status and both privacy flags set on some."""
    state = LaporState(clock=clock)
    state.seed_from_corpus(len(corpus), corpus)
    return state


def read_back(path: Path) -> list[Complaint]:
    settings = SpreadsheetSettings(type="spreadsheet", path=str(path), id_column="Tracking ID")
    mapping = load_mapping(MAPPING)
    pages = SpreadsheetConnector("lapor-export", settings).pull()
    return [mapping.to_canonical(record) for page in pages for record in page]


def test_export_reads_back_as_the_simulator_complaints(tmp_path: Path, state: LaporState) -> None:
    """Title, content, status, flags, category and filing time match the simulator's state."""
    write_export(state, tmp_path / "export.xlsx")
    complaints = read_back(tmp_path / "export.xlsx")
    assert sorted(int(c.source_id) for c in complaints) == sorted(state.complaints)
    for complaint in complaints:
        rec = state.complaints[int(complaint.source_id)]
        assert (complaint.title, complaint.content) == (rec["title"], rec["content"])
        assert complaint.status == STATUS_NAMES[STATUSES[rec["status_code"]]]
        assert complaint.raw_status.label == STATUSES[rec["status_code"]]
        assert complaint.is_anonymous == bool(rec["is_anonymous"])
        assert complaint.is_secret == bool(rec["is_secret"])
        assert complaint.category == CATEGORIES[rec["category_id"]]
        assert complaint.institution_id == str(rec["disposition_id"])
        assert complaint.created_at == datetime.fromisoformat(rec["created_at"])
        assert complaint.ticket == complaint.source_id


def test_seeded_state_covers_both_flags(state: LaporState) -> None:
    """The fixture holds anonymous and secret complaints, so the flag checks mean something."""
    assert any(rec["is_anonymous"] for rec in state.complaints.values())
    assert any(rec["is_secret"] for rec in state.complaints.values())


def test_export_can_be_limited_to_one_institution(tmp_path: Path, state: LaporState) -> None:
    """institution_id exports only the complaints disposed to that institution."""
    write_export(state, tmp_path / "export.xlsx", institution_id=1003)
    complaints = read_back(tmp_path / "export.xlsx")
    expected = {i for i, rec in state.complaints.items() if rec["disposition_id"] == 1003}
    assert expected
    assert {int(c.source_id) for c in complaints} == expected


def test_export_has_metadata_rows_above_the_header(state: LaporState) -> None:
    """The sheet starts with title, export date and institution rows, then a blank row."""
    buffer = io.BytesIO()
    write_export(state, buffer, institution_id=1001)
    rows = list(load_workbook(buffer, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Laporan SP4N-LAPOR!"
    assert str(rows[1][0]).startswith("Diekspor: 2026-03-02")
    assert rows[2][0] == "Instansi: Pemerintah Kabupaten Badung"
    assert tuple(rows[4]) == COLUMNS


def test_export_route_serves_the_file(
    tmp_path: Path,
    state: LaporState,
    serve: Callable[[Any], RunningServer],
    client: Callable[..., httpx.Client],
) -> None:
    """GET /_sim/export.xlsx needs no auth and serves an .xlsx download of one institution."""
    sim = client(serve(create_app(state)).url)
    response = sim.get("/_sim/export.xlsx", params={"disposition_id": 1003})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    (tmp_path / "download.xlsx").write_bytes(response.content)
    complaints = read_back(tmp_path / "download.xlsx")
    expected = {i for i, rec in state.complaints.items() if rec["disposition_id"] == 1003}
    assert {int(c.source_id) for c in complaints} == expected
