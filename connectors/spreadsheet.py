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

import codecs
import csv
import hashlib
import heapq
import os
import re
import zipfile
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path
from typing import Any

import openpyxl
import structlog
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import Field

from bridge.connector import Connector, ConnectorSettings, NativeRecord
from bridge.errors import ProtocolError, RetryableError, SourceEmpty

log = structlog.get_logger(__name__)

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
SUFFIXES = frozenset({".xlsx", ".csv"})
DELIMITERS = (",", ";", "\t")
_SAMPLE_CHARS = 64 * 1024
# Small on purpose: decoding 1 MB chunks grew the process by ~20 % of the file's size
# (the C allocator's heap fragments; measured 23 MB for a 122 MB CSV), 16 kB stays flat.
_CHUNK_BYTES = 16 * 1024
_MAX_FIELD_CHARS = 2**31 - 1  # the largest limit csv takes on every platform (a C long)
_REPLACED = "\ufffd"
DAMAGED_UTF8 = "utf-8, some bytes undecodable"
UNDECODABLE_KEY = "undecodable_utf8"
"""A CSV cell whose bytes are not UTF-8 comes as ``{UNDECODABLE_KEY: text}`` (the sql
connector's convention): a dict where text is expected, so the mapping sets it aside."""
RUN_ROWS = 1 << 14
"""Ids hashed and sorted at a time by ``superseded_rows`` (at most 65,536: 2-byte positions)."""
# What openpyxl and the zip/XML layers beneath it raise on a file that is not a valid
# workbook (xml.etree's ParseError is a SyntaxError).
_CORRUPT_XLSX = (
    zipfile.BadZipFile,
    InvalidFileException,
    KeyError,
    ValueError,
    EOFError,
    zlib.error,
    SyntaxError,
)

Row = tuple[int, Sequence[Any]]
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
        self._header_text = _norm(self.options.header_first_cell or self.options.id_column)
        self._id_text = _norm(self.options.id_column)

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
        if first is None or _norm(str(first)) != self._header_text:
            return None
        keys = _header_keys(cells)
        normalised = [_norm(k) if k else None for k in keys]
        if self._id_text not in normalised:
            raise ProtocolError(
                f"{self.name}: {path.name} has no column {self.options.id_column!r} in its "
                f"header row; columns found: {', '.join(k for k in keys if k)}"
            )
        return _Header(keys, normalised.index(self._id_text))

    def _raw_rows(self, path: Path) -> Iterator[Row]:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            return _xlsx_rows(path, self.options.sheet)
        if suffix == ".csv":
            return _csv_rows(path, self._header_text)
        hint = " (save it as .xlsx)" if suffix == ".xls" else ""
        raise ProtocolError(f"{self.name}: {path.name} is not an .xlsx or .csv file{hint}")


# -- reading files ---------------------------------------------------------------


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[Row]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except _CORRUPT_XLSX as exc:
        raise _damaged(path, exc) from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ProtocolError(
                f"{path.name} has no sheet {sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
            )
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        # The stored dimensions are often wrong in generated files; read the cells as they are.
        worksheet.reset_dimensions()
        yield from enumerate(worksheet.iter_rows(values_only=True), start=1)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except _CORRUPT_XLSX as exc:
        raise _damaged(path, exc) from exc
    finally:
        workbook.close()


def _csv_rows(path: Path, header_text: str) -> Iterator[Row]:
    encoding = _csv_encoding(path)
    damaged = encoding == DAMAGED_UTF8
    # Python's default field limit (131,072 characters) made one long cell a csv.Error, so
    # the whole export was refused every cycle; the mapping sets an over-long text aside.
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_FIELD_CHARS))
    try:
        with path.open(
            encoding="utf-8-sig" if damaged else encoding,
            errors="replace" if damaged else "strict",
            newline="",
        ) as handle:
            delimiter = _sniff_delimiter(handle.read(_SAMPLE_CHARS), header_text)
            handle.seek(0)
            rows = enumerate(csv.reader(handle, delimiter=delimiter), start=1)
            yield from ((n, _marked(row)) for n, row in rows) if damaged else rows
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    except csv.Error as exc:
        raise ProtocolError(f"{path.name} is not a readable CSV file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            f"{path.name} is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8"
        ) from exc


def _csv_encoding(path: Path) -> str:
    """UTF-8 (BOM tolerated) when the whole file decodes as such, else Windows-1252.

    Decided before the first row is yielded, so a bad byte deep in the file cannot stop
    a pull half-way; the check streams the file in chunks. A file that is UTF-8 (it holds
    valid multi-byte letters) but also a few undecodable bytes is ``DAMAGED_UTF8``: read
    as Windows-1252, every other row's letters would silently change (``é`` → ``Ã©``), so
    only the cells with the bad bytes are marked instead (see ``_marked``).
    """
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    damaged = multibyte = False
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                text = decoder.decode(chunk)
                damaged = damaged or _REPLACED in text
                multibyte = multibyte or not text.replace(_REPLACED, "").isascii()
            damaged = damaged or _REPLACED in decoder.decode(b"", final=True)
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    if not damaged:
        return "utf-8-sig"
    if multibyte:
        log.warning("spreadsheet.csv.undecodable_bytes", file=path.name)
        return DAMAGED_UTF8
    log.warning("spreadsheet.csv.encoding_fallback", file=path.name, encoding="cp1252")
    return "cp1252"


def _marked(row: list[str]) -> list[Any]:
    """Cells of a damaged UTF-8 file: one holding undecodable bytes becomes a dict, which the
    mapping refuses as text (that record is set aside) instead of passing on a silent ``�``."""
    return [{UNDECODABLE_KEY: cell} if _REPLACED in cell else cell for cell in row]


def _sniff_delimiter(sample: str, header_text: str) -> str:
    """The delimiter that splits the header row into the most columns.

    Looking for the header row itself is sturdier than ``csv.Sniffer``, which the
    metadata rows above the header (single cells, no delimiter) often mislead.
    """
    lines = sample.splitlines()[:-1] or sample.splitlines()  # the last line may be cut short
    best, widest = ",", 0
    for delimiter in DELIMITERS:
        for cells in csv.reader(lines, delimiter=delimiter):
            first = next((c for c in cells if c.strip()), None)
            if first is not None and _norm(first) == header_text and len(cells) > widest:
                best, widest = delimiter, len(cells)
                break
    return best


def _damaged(path: Path, exc: Exception) -> ProtocolError:
    # Only the exception's type: its text may quote a cell, which may be personal data.
    return ProtocolError(
        f"{path.name} is not a readable .xlsx workbook ({type(exc).__name__}); open it in "
        f"Excel and save it again as .xlsx, or download the export again"
    )


def _unreadable(path: Path, exc: OSError) -> RetryableError:
    return RetryableError(
        f"{path.name} cannot be read right now ({exc.strerror or type(exc).__name__}); it may "
        f"be open in Excel, still being copied, or on a share that is down"
    )


# -- small pure helpers -----------------------------------------------------------


def _wanted_file(path: Path) -> bool:
    # "~$name.xlsx" is the lock file Excel leaves beside an open workbook: never a workbook.
    hidden = path.name.startswith(("~$", "."))
    return not hidden and path.suffix.lower() in SUFFIXES and not path.is_dir()


def _stamp(path: Path) -> _Stamp:
    try:
        status = path.stat()
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    return status.st_mtime_ns, status.st_size


def _pages(records: Iterable[NativeRecord], size: int) -> Iterator[list[NativeRecord]]:
    iterator = iter(records)
    while page := list(islice(iterator, size)):
        yield page


_SPACES = re.compile(r"\s+")


def _norm(text: str) -> str:
    """Header text compared case- and spacing-insensitively."""
    return _SPACES.sub(" ", text).strip().casefold()


def _header_keys(cells: Sequence[Any]) -> tuple[str | None, ...]:
    keys: list[str | None] = []
    for cell in cells:
        key = _SPACES.sub(" ", str(cell)).strip() if cell is not None else None
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


class Superseded:
    """Row ordinals (0, 1, … over the rows with an id, in pull order) that a later row replaces.

    A bitmap: one bit per row (125 kB for a million rows).
    """

    def __init__(self, rows: int) -> None:
        self._bits = bytearray((rows + 7) // 8)
        self.count = 0

    def add(self, ordinal: int) -> None:
        self._bits[ordinal >> 3] |= 1 << (ordinal & 7)
        self.count += 1

    def __contains__(self, ordinal: object) -> bool:
        if not isinstance(ordinal, int) or not 0 <= ordinal < len(self._bits) * 8:
            return False
        return bool(self._bits[ordinal >> 3] >> (ordinal & 7) & 1)


def superseded_rows(ids: Iterable[str], *, run_rows: int = RUN_ROWS) -> Superseded:
    """Which of ``ids`` (in pull order) a later occurrence of the same id replaces.

    Memory, per row: each id becomes an 8-byte keyed BLAKE2b digest plus its 2-byte
    position in its run of ``run_rows``; each run is sorted as it fills (its Python ints,
    under 1 MB for 16,384 rows, are the only other cost) and kept as two ``array``s:
    10 bytes a row (10 MB for a million rows) while this runs, none afterwards. The
    sorted runs are then merged: equal digests come together, in pull order, and every
    one but the last is superseded. The result costs one bit a row.

    Two different ids with the same digest would hide the earlier row. The odds are
    about rows² / 2⁶⁵ (3 in 100 million for a million rows), and the key is new each
    call, so such a row would come back on the next pull.
    """
    if not 1 <= run_rows <= 1 << 16:
        raise ValueError("run_rows must be between 1 and 65,536 (positions are 2 bytes)")
    key = os.urandom(16)
    runs: list[tuple[array[int], array[int]]] = []
    pending: list[int] = []
    for source_id in ids:
        digest = hashlib.blake2b(source_id.encode("utf-8"), digest_size=8, key=key).digest()
        pending.append(int.from_bytes(digest, "big") << 16 | len(pending))
        if len(pending) == run_rows:
            runs.append(_sorted_run(pending))
            pending = []
    if pending:
        runs.append(_sorted_run(pending))
    result = Superseded(sum(len(digests) for digests, _ in runs))
    merged = heapq.merge(*(_run_entries(run, i * run_rows) for i, run in enumerate(runs)))
    previous = None
    for entry in merged:  # digest << 32 | ordinal, ascending
        if previous is not None and previous >> 32 == entry >> 32:
            result.add(previous & 0xFFFF_FFFF)  # the same id again, further on
        previous = entry
    return result


def _sorted_run(pending: list[int]) -> tuple[array[int], array[int]]:
    """One run of ``digest << 16 | position`` values, sorted, as digests and positions."""
    pending.sort()
    return array("Q", (v >> 16 for v in pending)), array("H", (v & 0xFFFF for v in pending))


def _run_entries(run: tuple[array[int], array[int]], first: int) -> Iterator[int]:
    """A sorted run's rows as ``digest << 32 | ordinal``, ordinals counted from ``first``.

    Ordinals take 32 bits: four billion rows, far beyond what a spreadsheet export holds.
    """
    digests, positions = run
    for digest, position in zip(digests, positions, strict=True):
        yield digest << 32 | (first + position)
