"""The spreadsheet connector: headers below metadata, folders of exports, cells, clear errors."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from pydantic import ValidationError
from structlog.testing import capture_logs

from bridge.connector import NativeRecord, connector_class
from bridge.connectors.spreadsheet import SpreadsheetConnector, SpreadsheetSettings, superseded_rows
from bridge.errors import ProtocolError, RetryableError, SourceEmpty

HEADER = ["Tracking ID", "Judul Laporan", "Tanggal Laporan Masuk", "Rating"]
METADATA: list[list[Any]] = [["Laporan SP4N-LAPOR!"], ["Diekspor: 2026-03-02"], []]


def write_xlsx(path: Path, rows: Sequence[Sequence[Any]], *, sheet: str = "Laporan") -> Path:
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(list(row))
    workbook.save(path)
    return path


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    return path


def export(*data: Sequence[Any]) -> list[Sequence[Any]]:
    """An export's rows: metadata, the header, then ``data``."""
    return [*METADATA, HEADER, *data]


def set_age(path: Path, seconds: int) -> Path:
    """Give a file a fixed modification time, so 'newest' needs no sleeping."""
    os.utime(path, (1_700_000_000 + seconds, 1_700_000_000 + seconds))
    return path


def connector(path: Path, **options: Any) -> SpreadsheetConnector:
    settings = SpreadsheetSettings(
        type="spreadsheet", path=str(path), id_column="Tracking ID", **options
    )
    return SpreadsheetConnector("export", settings)


def pulled(conn: SpreadsheetConnector) -> list[NativeRecord]:
    return [record for page in conn.pull() for record in page]


def by_id(records: list[NativeRecord]) -> dict[Any, NativeRecord]:
    return {str(r["Tracking ID"]): r for r in records}


# -- headers and cells -------------------------------------------------------------------------


def test_xlsx_header_is_found_below_metadata_rows(tmp_path: Path) -> None:
    """Rows above the 'Tracking ID' row are skipped and records are keyed by the header texts."""
    path = write_xlsx(tmp_path / "a.xlsx", export([4100001, "Jalan rusak", None, 5]))
    [record] = pulled(connector(path))
    assert record["Tracking ID"] == 4100001
    assert record["Judul Laporan"] == "Jalan rusak"
    assert record["_source_file"] == "a.xlsx"
    assert record["_source_row"] == 5


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_header_is_found_below_metadata_rows(tmp_path: Path, delimiter: str) -> None:
    """A CSV's delimiter is sniffed and its header row found below the metadata rows."""
    rows = export(["4100001", "Jalan rusak, berlubang", "", "5"])
    path = write_csv(tmp_path / "a.csv", rows, delimiter=delimiter)
    [record] = pulled(connector(path))
    assert record["Tracking ID"] == "4100001"
    assert record["Judul Laporan"] == "Jalan rusak, berlubang"
    assert record["Tanggal Laporan Masuk"] is None


def test_header_match_ignores_case_and_spacing(tmp_path: Path) -> None:
    """'  tracking   ID ' is the header row of header_first_cell 'Tracking ID'."""
    rows = [["Judul"], ["  tracking   ID ", "Judul Laporan"], [1, "x"]]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    [record] = pulled(connector(path))
    expected = {"tracking ID": 1, "Judul Laporan": "x", "_source_file": "a.xlsx"}
    assert record == {**expected, "_source_row": 3}


def test_excel_dates_become_iso_strings(tmp_path: Path) -> None:
    """Excel date and datetime cells are read as naive ISO-8601 text."""
    rows = export([1, "a", datetime(2026, 1, 5, 8, 30), None], [2, "b", date(2026, 1, 6), None])
    records = by_id(pulled(connector(write_xlsx(tmp_path / "a.xlsx", rows))))
    assert records["1"]["Tanggal Laporan Masuk"] == "2026-01-05T08:30:00"
    assert records["2"]["Tanggal Laporan Masuk"] == "2026-01-06T00:00:00"


def test_integer_valued_floats_become_ints(tmp_path: Path) -> None:
    """1906867.0 is read as 1906867; a real fraction stays a float; text is trimmed."""
    rows = export([1906867.0, "  Jalan  ", None, 4.5])
    [record] = pulled(connector(write_xlsx(tmp_path / "a.xlsx", rows)))
    assert record["Tracking ID"] == 1906867
    assert isinstance(record["Tracking ID"], int)
    assert record["Rating"] == 4.5
    assert record["Judul Laporan"] == "Jalan"


def test_blank_rows_are_skipped(tmp_path: Path) -> None:
    """Fully blank rows (and rows of spaces) below the header yield no record."""
    rows = export([1, "a", None, None], [], [None, "   ", None, None], [2, "b", None, None])
    records = pulled(connector(write_csv(tmp_path / "a.csv", rows)))
    assert [r["Tracking ID"] for r in records] == ["1", "2"]
    assert [r["_source_row"] for r in records] == [5, 8]


def test_cp1252_csv_is_read_with_a_note(tmp_path: Path) -> None:
    """A CSV saved by Excel in Windows-1252 is read, and the fallback is logged."""
    path = write_csv(tmp_path / "a.csv", export(["1", "Keluhan – café", "", ""]), encoding="cp1252")
    with capture_logs() as logs:
        [record] = pulled(connector(path))
    assert record["Judul Laporan"] == "Keluhan – café"
    assert {"event": "spreadsheet.csv.encoding_fallback", "file": "a.csv"}.items() <= logs[
        0
    ].items()


def test_csv_in_neither_encoding_is_an_error(tmp_path: Path) -> None:
    """A CSV that is neither UTF-8 nor Windows-1252 raises ProtocolError naming the file."""
    path = tmp_path / "odd.csv"
    path.write_bytes(b"Tracking ID,Judul\n1,\x81\n")
    with pytest.raises(ProtocolError, match=r"odd\.csv is neither"):
        list(connector(path).pull())


def test_utf8_bom_csv_is_read(tmp_path: Path) -> None:
    """A UTF-8 CSV with a byte-order mark finds its header in the first line."""
    rows = [HEADER, ["1", "Keluhan – café", "", ""]]
    path = write_csv(tmp_path / "a.csv", rows, encoding="utf-8-sig")
    [record] = pulled(connector(path))
    assert record["Judul Laporan"] == "Keluhan – café"


def test_named_sheet_is_read(tmp_path: Path) -> None:
    """The sheet setting picks a worksheet other than the first."""
    workbook = Workbook()
    workbook.active.append(["nothing here"])  # type: ignore[union-attr]
    workbook.create_sheet("Laporan").append(HEADER)
    workbook["Laporan"].append([7, "x"])
    workbook.save(tmp_path / "a.xlsx")
    [record] = pulled(connector(tmp_path / "a.xlsx", sheet="Laporan"))
    assert record["Tracking ID"] == 7


def test_pages_hold_at_most_page_size_records(tmp_path: Path) -> None:
    """pull yields pages of page_size records, the last one shorter."""
    rows = export(*([n, f"t{n}", None, None] for n in range(1, 6)))
    pages = list(connector(write_xlsx(tmp_path / "a.xlsx", rows), page_size=2).pull())
    assert [len(page) for page in pages] == [2, 2, 1]


def test_rows_without_an_id_are_passed_on(tmp_path: Path) -> None:
    """A row with no id is yielded (the engine sets it aside), not silently dropped."""
    rows = export([None, "tanpa id", None, None], [1, "a", None, None])
    records = pulled(connector(write_xlsx(tmp_path / "a.xlsx", rows)))
    assert [r["Judul Laporan"] for r in records] == ["tanpa id", "a"]


# -- folders ---------------------------------------------------------------------------------


def test_newest_file_wins_for_a_repeated_id(tmp_path: Path) -> None:
    """An id in several files is yielded once, from the most recently modified file."""
    set_age(write_xlsx(tmp_path / "b-old.xlsx", export([1, "lama", None, None])), 10)
    newer = export([1, "baru", None, None], [2, "dua", None, None])
    set_age(write_csv(tmp_path / "a-new.csv", newer), 20)
    records = pulled(connector(tmp_path))
    assert sorted(str(r["Tracking ID"]) for r in records) == ["1", "2"]
    assert by_id(records)["1"]["Judul Laporan"] == "baru"
    assert by_id(records)["1"]["_source_file"] == "a-new.csv"


def test_across_three_exports_each_id_comes_from_the_newest_file_holding_it(
    tmp_path: Path,
) -> None:
    """Newest by modification time, not by name: each id once, with its newest file's row."""
    set_age(write_csv(tmp_path / "c.csv", export(*([n, f"old {n}"] for n in (1, 2, 3, 4)))), 10)
    middle = export(*([n, f"mid {n}"] for n in (2, 3, 5)))
    set_age(write_xlsx(tmp_path / "b.xlsx", middle), 20)
    newest = export([3, "new 3 first"], [6, "new 6"], [3, "new 3"], [2, "new 2"])
    set_age(write_csv(tmp_path / "a.csv", newest), 30)

    records = pulled(connector(tmp_path, page_size=2))

    titles = [(str(r["Tracking ID"]), r["Judul Laporan"]) for r in records]
    assert titles == [  # oldest file first; a row is left out where a later one replaces it
        ("1", "old 1"),
        ("4", "old 4"),
        ("5", "mid 5"),
        ("6", "new 6"),
        ("3", "new 3"),
        ("2", "new 2"),
    ]


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(st.sampled_from("abcdefg"), max_size=40),
    run_rows=st.integers(min_value=1, max_value=6),
)
def test_superseded_rows_are_those_whose_id_comes_again_later(
    ids: list[str], run_rows: int
) -> None:
    """Whatever the runs' size: a row is superseded exactly when its id occurs further on."""
    superseded = superseded_rows(ids, run_rows=run_rows)

    expected = [i for i, source_id in enumerate(ids) if source_id in ids[i + 1 :]]
    assert [i for i in range(len(ids)) if i in superseded] == expected
    assert superseded.count == len(expected)


def test_same_id_twice_in_one_file_yields_the_later_row(tmp_path: Path) -> None:
    """Within one file, the later row for an id supersedes the earlier one."""
    rows = export([1, "pertama", None, None], [1, "kedua", None, None])
    records = pulled(connector(write_xlsx(tmp_path / "a.xlsx", rows)))
    assert [r["Judul Laporan"] for r in records] == ["kedua"]


def test_get_finds_the_newest_row(tmp_path: Path) -> None:
    """get scans the files newest first and returns None for an unknown id."""
    set_age(write_xlsx(tmp_path / "old.xlsx", export([1, "lama", None, None])), 10)
    set_age(write_xlsx(tmp_path / "new.xlsx", export([1, "baru", None, None])), 20)
    conn = connector(tmp_path)
    record = conn.get("1")
    assert record is not None
    assert record["Judul Laporan"] == "baru"
    assert conn.get("999") is None


def test_a_file_dropped_in_the_folder_is_picked_up(tmp_path: Path) -> None:
    """The next pull reads a new export dropped into the folder."""
    set_age(write_xlsx(tmp_path / "1.xlsx", export([1, "a", None, None])), 10)
    conn = connector(tmp_path)
    assert len(pulled(conn)) == 1
    set_age(write_xlsx(tmp_path / "2.xlsx", export([2, "b", None, None])), 20)
    assert sorted(r["Tracking ID"] for r in pulled(conn)) == [1, 2]


def test_a_file_rewritten_during_a_pull_is_retried(tmp_path: Path) -> None:
    """A file rewritten between the two passes of a pull raises RetryableError, losing nothing."""
    set_age(write_xlsx(tmp_path / "1.xlsx", export([1, "a", None, None])), 10)
    set_age(write_xlsx(tmp_path / "2.xlsx", export([2, "b", None, None])), 20)
    pages = connector(tmp_path, page_size=1).pull()
    assert next(pages)[0]["Tracking ID"] == 1
    set_age(write_xlsx(tmp_path / "2.xlsx", export([2, "b", None, None], [3, "c", None, None])), 30)
    with pytest.raises(RetryableError, match=r"2\.xlsx changed"):
        list(pages)


def test_glob_and_lock_files_limit_the_files_read(tmp_path: Path) -> None:
    """Only files matching glob are read; Excel's ~$ lock files and other suffixes never are."""
    write_xlsx(tmp_path / "lapor-1.xlsx", export([1, "a", None, None]))
    write_csv(tmp_path / "lapor-2.csv", export([2, "b", None, None]))
    (tmp_path / "~$lapor-1.xlsx").write_bytes(b"lock")
    (tmp_path / "notes.txt").write_text("Tracking ID\n3\n")
    assert [r["Tracking ID"] for r in pulled(connector(tmp_path, glob="*.xlsx"))] == [1]
    assert sorted(str(r["Tracking ID"]) for r in pulled(connector(tmp_path))) == ["1", "2"]


# -- errors ----------------------------------------------------------------------------------


def test_missing_path_is_an_error_not_an_empty_pull(tmp_path: Path) -> None:
    """A path that does not exist raises SourceEmpty naming the path."""
    missing = tmp_path / "exports"
    with pytest.raises(SourceEmpty, match="exports"):
        list(connector(missing).pull())


def test_folder_without_matching_files_is_an_error(tmp_path: Path) -> None:
    """A folder with no matching export raises SourceEmpty naming the folder and the glob."""
    write_csv(tmp_path / "a.csv", export(["1", "a", "", ""]))
    with pytest.raises(SourceEmpty, match=r"\*\.xlsx"):
        list(connector(tmp_path, glob="*.xlsx").pull())


def test_file_without_the_header_row_is_an_error(tmp_path: Path) -> None:
    """A file with no 'Tracking ID' row raises ProtocolError naming the file and the text."""
    path = write_xlsx(tmp_path / "wrong.xlsx", [["Laporan"], ["ID", "Judul"], [1, "a"]])
    with pytest.raises(ProtocolError, match=r"wrong\.xlsx.*'Tracking ID'"):
        list(connector(path).pull())


def test_header_without_the_id_column_is_an_error(tmp_path: Path) -> None:
    """A header row that lacks id_column raises ProtocolError listing the columns found."""
    path = write_csv(tmp_path / "a.csv", [["No", "Judul"], ["1", "a"]])
    with pytest.raises(ProtocolError, match="Judul"):
        list(connector(path, header_first_cell="No").pull())


def test_corrupt_xlsx_is_an_error_naming_the_file(tmp_path: Path) -> None:
    """A damaged workbook raises ProtocolError naming the file."""
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ProtocolError, match=r"broken\.xlsx"):
        list(connector(tmp_path / "broken.xlsx").pull())


def test_unknown_sheet_is_an_error_listing_the_sheets(tmp_path: Path) -> None:
    """A sheet setting that names no worksheet raises ProtocolError listing the sheets."""
    path = write_xlsx(tmp_path / "a.xlsx", export([1, "a", None, None]))
    with pytest.raises(ProtocolError, match="Laporan"):
        list(connector(path, sheet="Sheet9").pull())


def test_old_xls_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    """A .xls file named directly is refused with a hint to save it as .xlsx."""
    (tmp_path / "a.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ProtocolError, match=r"save it as \.xlsx"):
        list(connector(tmp_path / "a.xls").pull())


# -- settings and registry --------------------------------------------------------------------


def test_settings_reject_unknown_keys(tmp_path: Path) -> None:
    """A misspelt setting is an error at start-up, not ignored."""
    with pytest.raises(ValidationError, match="id_colum"):
        SpreadsheetSettings.model_validate(
            {"type": "spreadsheet", "path": str(tmp_path), "id_colum": "Tracking ID"}
        )


def test_connector_is_registered_and_read_only() -> None:
    """Type 'spreadsheet' resolves to the connector, which declares a read-only scan feed."""
    cls = connector_class("spreadsheet")
    assert cls is SpreadsheetConnector
    assert (cls.can_create, cls.change_feed, cls.can_find_by_ref) == (False, "scan", False)
    assert cls.supports_followups is False
