"""The spreadsheet connector: rows of ``.xlsx`` and ``.csv`` files as native records.

Made for the LAPOR! admin export (DOMAIN.md §2), the real fallback when an agency
cannot list the complaints disposed to it through the API, and for the Excel/CSV
logs front offices keep (DOMAIN.md §3). Read-only: it lists and gets, never writes.

``path`` may name a folder: every matching file in it is read, so new exports are
picked up as they are dropped there. A record id seen in several files is taken
from the newest file (a later export supersedes an earlier one; within one file the
later row wins), and each id is yielded once per pull. Rows are streamed in two
passes: the first reads only the ids and works out which rows a later row replaces
(``superseded_rows``: 10 bytes a row while it runs, then one bit a row), the second
yields the others, so memory holds neither records nor ids however large the files are.

Errors: a missing path or a folder with no files raises ``SourceEmpty`` (a missing
export is never "no complaints"); a file we cannot understand (corrupt, no header
row) raises ``ProtocolError`` naming it; a listed file that cannot be opened at the
moment (locked by Excel, still being copied, on a share that is down) or that is
rewritten between the two passes raises ``RetryableError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any

import structlog
from pydantic import Field

from bridge.connector import Connector, ConnectorSettings, NativeRecord
from bridge.errors import ProtocolError, RetryableError, SourceEmpty

from .spreadsheet_dedup import RUN_ROWS, Superseded, superseded_rows
from .spreadsheet_files import SPACES, Row, file_rows, norm, unreadable

log = structlog.get_logger(__name__)

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
SUFFIXES = frozenset({".xlsx", ".csv"})

_Stamp = tuple[int, int]  # (modification time in ns, size): tells a rewritten file


class SpreadsheetSettings(ConnectorSettings):
    """Settings of a ``spreadsheet`` connector.

    - ``path``: one ``.xlsx``/``.csv`` file, or a folder whose matching files are all read
      (oldest first by modification time, then name; the newest file wins for a repeated id).
    - ``glob``: file-name pattern inside a folder, e.g. ``"lapor-*.xlsx"``; the default
      ``"*"`` takes every ``.xlsx`` and ``.csv`` file. Excel lock files (``~$…``) and hidden
      files are always skipped.
    - ``id_column``: the header text of the column holding the record id (``"Tracking ID"``).
    - ``header_first_cell``: the header row is the first row whose first non-empty cell
      equals this text (case and spacing ignored), so metadata rows above it are skipped.
      Default: ``id_column``.
    - ``sheet``: the worksheet of an ``.xlsx`` file to read; default the first one.
    - ``page_size``: records per page yielded by ``pull``.

    Records are keyed by the header texts (trimmed, inner spacing collapsed) and carry
    ``_source_file`` and ``_source_row``. ``.xlsx`` numbers stay numbers (whole floats
    become ints) and dates become naive ISO strings; ``.csv`` cells are text (UTF-8, with
    or without BOM, else Windows-1252; in a UTF-8 file with a few undecodable bytes only
    those cells are marked, as ``{"undecodable_utf8": text}``; the delimiter is sniffed
    among comma, semicolon and tab). Empty cells are None; fully blank rows are skipped.
    """

    path: str
    glob: str = Field(default="*", min_length=1)
    id_column: str = Field(min_length=1)
    header_first_cell: str | None = None
    sheet: str | None = None
    page_size: int = Field(default=500, ge=1)


@dataclass(frozen=True)
class _Header:
    keys: tuple[str | None, ...]
    id_index: int


class SpreadsheetConnector(Connector[SpreadsheetSettings]):
    """Rows of spreadsheet exports, read-only, listed in full every pull (scan feed)."""

    type = "spreadsheet"
    can_create = False
    change_feed = "scan"
    can_find_by_ref = False
    supports_followups = False

    def __init__(self, name: str, settings: ConnectorSettings) -> None:
        super().__init__(name, settings)
        self._header_text = norm(self.options.header_first_cell or self.options.id_column)
        self._id_text = norm(self.options.id_column)

    # -- the contract ----------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        listing = self._listing()
        files = [path for path, _ in listing]
        # Pass 1 reads the ids only and marks the rows a later row replaces; pass 2
        # yields the others. Files go oldest first, so the newest file's row is the last.
        superseded = superseded_rows(self._ids(files), run_rows=RUN_ROWS)
        count = 0
        for page in _pages(self._deduplicated(listing, superseded), self.options.page_size):
            count += len(page)
            yield page
        log.info("spreadsheet.pull.finished", connector=self.name, files=len(files), records=count)

    def get(self, record_id: str) -> NativeRecord | None:
        wanted = record_id.strip()
        for path, _ in reversed(self._listing()):
            found = None
            for _, key, record in self._records(path):
                if key == wanted:
                    found = record  # keep scanning: the file's last row for an id wins
            if found is not None:
                return found
        return None

    # -- files -----------------------------------------------------------------

    def _listing(self) -> list[tuple[Path, _Stamp]]:
        """The files to read with their (modification time, size), oldest first, then by name."""
        root = Path(self.options.path)
        if root.is_file():
            return [(root, _stamp(root))]
        if not root.is_dir():
            raise SourceEmpty(
                f"{self.name}: spreadsheet path {str(root)!r} does not exist; check the path "
                f"setting and that the share holding the exports is mounted"
            )
        found = [p for p in root.glob(self.options.glob) if _wanted_file(p)]
        if not found:
            raise SourceEmpty(
                f"{self.name}: folder {str(root)!r} has no .xlsx or .csv file matching "
                f"{self.options.glob!r}; put the export there or fix the glob setting"
            )
        stamped = [(path, _stamp(path)) for path in found]
        # Oldest first, so that in pass 1 a newer file's row overwrites an older one's.
        return sorted(stamped, key=lambda item: (item[1][0], item[0].name))

    # -- records ---------------------------------------------------------------

    def _ids(self, files: Sequence[Path]) -> Iterator[str]:
        """The id of every data row that has one, in pull order (files oldest first)."""
        for path in files:
            for _, header, cells in self._data_rows(path):
                if (key := _row_id(header, cells)) is not None:
                    yield key

    def _deduplicated(
        self, listing: Sequence[tuple[Path, _Stamp]], superseded: Superseded
    ) -> Iterator[NativeRecord]:
        ordinal = 0  # counts the rows with an id, as ``_ids`` did in pass 1
        for path, stamp in listing:
            if _stamp(path) != stamp:
                # Rewritten since it was listed: its rows may no longer be the ones pass 1 read.
                raise RetryableError(
                    f"{self.name}: {path.name} changed while being read; it is read again "
                    f"next cycle"
                )
            for _, key, record in self._records(path):
                if key is None:
                    yield record  # no id: passed on, and the engine sets it aside visibly
                    continue
                if ordinal not in superseded:
                    yield record
                ordinal += 1

    def _records(self, path: Path) -> Iterator[tuple[int, str | None, NativeRecord]]:
        """(row number, id, record) for every data row of one file."""
        for row_number, header, cells in self._data_rows(path):
            record: NativeRecord = {
                key: (cells[i] if i < len(cells) else None)
                for i, key in enumerate(header.keys)
                if key is not None
            }
            record[SOURCE_FILE] = path.name
            record[SOURCE_ROW] = row_number
            yield row_number, _row_id(header, cells), record

    def _data_rows(self, path: Path) -> Iterator[tuple[int, _Header, list[Any]]]:
        """The non-blank rows below the header of one file, cells normalised."""
        header: _Header | None = None
        for row_number, raw in self._raw_rows(path):
            cells = [_cell(value) for value in raw]
            if header is None:
                header = self._header_from(cells, path)
            elif not _blank(header, cells):
                yield row_number, header, cells
        if header is None:
            raise ProtocolError(
                f"{self.name}: {path.name} has no header row whose first cell is "
                f"{self.options.header_first_cell or self.options.id_column!r}; check the "
                f"header_first_cell and sheet settings, or whether this is the right export"
            )

    def _header_from(self, cells: list[Any], path: Path) -> _Header | None:
        first = next((c for c in cells if c is not None), None)
        if first is None or norm(str(first)) != self._header_text:
            return None
        keys = _header_keys(cells)
        normalised = [norm(k) if k else None for k in keys]
        if self._id_text not in normalised:
            raise ProtocolError(
                f"{self.name}: {path.name} has no column {self.options.id_column!r} in its "
                f"header row; columns found: {', '.join(k for k in keys if k)}"
            )
        return _Header(keys, normalised.index(self._id_text))

    def _raw_rows(self, path: Path) -> Iterator[Row]:
        o = self.options
        return file_rows(path, sheet=o.sheet, header_text=self._header_text, connector=self.name)


# -- small pure helpers -----------------------------------------------------------


def _wanted_file(path: Path) -> bool:
    # "~$name.xlsx" is the lock file Excel leaves beside an open workbook: never a workbook.
    hidden = path.name.startswith(("~$", "."))
    return not hidden and path.suffix.lower() in SUFFIXES and not path.is_dir()


def _stamp(path: Path) -> _Stamp:
    try:
        status = path.stat()
    except OSError as exc:
        raise unreadable(path, exc) from exc
    return status.st_mtime_ns, status.st_size


def _pages(records: Iterable[NativeRecord], size: int) -> Iterator[list[NativeRecord]]:
    iterator = iter(records)
    while page := list(islice(iterator, size)):
        yield page


def _header_keys(cells: Sequence[Any]) -> tuple[str | None, ...]:
    keys: list[str | None] = []
    for cell in cells:
        key = SPACES.sub(" ", str(cell)).strip() if cell is not None else None
        keys.append(key if key and key not in keys else None)  # the first of twin columns wins
    return tuple(keys)


def _cell(value: Any) -> Any:
    """One cell as a native value: trimmed text, whole numbers as int, dates as ISO text."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _blank(header: _Header, cells: Sequence[Any]) -> bool:
    """No value under any named column (stray notes beside the table do not make a row)."""
    return all(cells[i] is None for i, key in enumerate(header.keys[: len(cells)]) if key)


def _row_id(header: _Header, cells: Sequence[Any]) -> str | None:
    """The id as text: 4100001, 4100001.0 and "4100001" are one id whatever the file type."""
    value = cells[header.id_index] if header.id_index < len(cells) else None
    if value is None or isinstance(value, bool):
        return None
    return str(value).strip() or None


# -- which rows a later row replaces ----------------------------------------------------
