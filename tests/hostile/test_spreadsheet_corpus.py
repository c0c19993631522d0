"""The spreadsheet corpus, written as .csv and as .xlsx, through the real engine."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.connectors.spreadsheet import SpreadsheetConnector, SpreadsheetSettings
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.sync import Route, run_cycle
from tests.conftest import MAPPINGS
from tests.hostile.conftest import delivered
from tests.hostile.corpus import Entry, assert_two_cycles, load

CORPUS = load("spreadsheet")
HEADER = ["Tracking ID", *(k for k in CORPUS.good[0] if k != "Tracking ID")]
ROUTE = "export-to-door"
METADATA = ["Laporan SP4N-LAPOR! - Pemerintah Kabupaten Badung"]  # above the header, as exported


def entries_for(fmt: str) -> list[Entry]:
    return [e for e in CORPUS.entries if fmt in e.extra.get("formats", ["csv", "xlsx"])]


def write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    """UTF-8 text, with raw bytes spliced in where a cell holds bytes."""
    spliced: dict[str, bytes] = {}
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(METADATA)
    writer.writerow(HEADER)
    for record in records:
        cells = []
        for key in HEADER:
            value = record.get(key)
            if isinstance(value, bytes):
                marker = f"@@BYTES{len(spliced)}@@"
                spliced[marker] = value
                value = marker
            cells.append("" if value is None else value)
        writer.writerow(cells)
    data = text.getvalue().encode("utf-8")
    for marker, raw in spliced.items():
        data = data.replace(marker.encode(), raw)
    path.write_bytes(data)


def write_xlsx(path: Path, records: list[dict[str, Any]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(METADATA)
    sheet.append(HEADER)
    for row, record in enumerate(records, start=3):
        for column, key in enumerate(HEADER, start=1):
            cell = sheet.cell(row=row, column=column, value=record.get(key))
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed text, as Excel keeps it: not a formula
    workbook.save(path)


def _route(path: Path, ledger: Ledger) -> Route:
    """The export at ``path`` → a memory SIDUMAS door: the one route every test here runs."""
    settings = SpreadsheetSettings(type="spreadsheet", path=str(path), id_column="Tracking ID")
    return Route(
        name=ROUTE,
        source=SpreadsheetConnector("export", settings),
        target=MemoryConnector("door", MemorySettings(type="memory", store="door")),
        source_mapping=load_mapping(MAPPINGS / "lapor-export.toml"),
        target_mapping=load_mapping(MAPPINGS / "sidumas.toml"),
        ledger=ledger,
    )


@pytest.fixture(params=["csv", "xlsx"])
def route(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Route, str]]:
    fmt: str = request.param
    path = tmp_path / f"lapor-export.{fmt}"
    (write_csv if fmt == "csv" else write_xlsx)(path, CORPUS.records(entries_for(fmt)))
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        yield _route(path, ledger), fmt


def test_every_hostile_row_is_set_aside_or_normalised(route: tuple[Route, str]) -> None:
    """Each entry meets its fate in both formats; good rows arrive once; nothing crashes."""
    wired, fmt = route
    entries = entries_for(fmt)

    first = run_cycle(wired)
    second = run_cycle(wired)

    assert_two_cycles(
        CORPUS,
        entries,
        first,
        second,
        ledger=wired.ledger,
        route=ROUTE,
        delivered=delivered(wired),
        source_system="export",
    )


def test_a_csv_in_no_known_encoding_stops_the_route(tmp_path: Path) -> None:
    """Neither UTF-8 nor Windows-1252 (0x81 is undefined there): ProtocolError, nothing sent."""
    path = tmp_path / "odd.csv"
    path.write_bytes(b"Tracking ID,Judul Laporan,Isi Laporan Awal,ID Kategori\n1,Jalan \x81,x,1\n")
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        wired = _route(path, ledger)
        report = run_cycle(wired)
        assert report.error is not None and report.error.startswith("ProtocolError")
        assert "neither UTF-8 nor Windows-1252" in report.error
        assert isinstance(wired.target, MemoryConnector)
        assert wired.target.records() == [] and ledger.quarantine.listed() == []
