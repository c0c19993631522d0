"""Reading the rows of one ``.xlsx`` or ``.csv`` file, whatever state the file is in.

``file_rows`` yields ``(row number, cells)`` from the first row on; the connector finds
the header among them. A file we cannot understand raises ``ProtocolError`` naming it;
one that cannot be opened right now (locked by Excel, a share that is down) raises
``RetryableError``. CSV text is UTF-8 (with or without BOM), else Windows-1252; a UTF-8
file with a few undecodable bytes has only those cells marked (``UNDECODABLE_KEY``).
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import structlog
from openpyxl.utils.exceptions import InvalidFileException

from bridge.errors import ProtocolError, RetryableError

log = structlog.get_logger(__name__)

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


def file_rows(path: Path, *, sheet: str | None, header_text: str, connector: str) -> Iterator[Row]:
    """The rows of ``path``, an ``.xlsx`` (its ``sheet``, default the first) or a ``.csv``."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx_rows(path, sheet)
    if suffix == ".csv":
        return _csv_rows(path, header_text)
    hint = " (save it as .xlsx)" if suffix == ".xls" else ""
    raise ProtocolError(f"{connector}: {path.name} is not an .xlsx or .csv file{hint}")


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[Row]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise unreadable(path, exc) from exc
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
        raise unreadable(path, exc) from exc
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
        raise unreadable(path, exc) from exc
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
        raise unreadable(path, exc) from exc
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
            if first is not None and norm(first) == header_text and len(cells) > widest:
                best, widest = delimiter, len(cells)
                break
    return best


def _damaged(path: Path, exc: Exception) -> ProtocolError:
    # Only the exception's type: its text may quote a cell, which may be personal data.
    return ProtocolError(
        f"{path.name} is not a readable .xlsx workbook ({type(exc).__name__}); open it in "
        f"Excel and save it again as .xlsx, or download the export again"
    )


def unreadable(path: Path, exc: OSError) -> RetryableError:
    return RetryableError(
        f"{path.name} cannot be read right now ({exc.strerror or type(exc).__name__}); it may "
        f"be open in Excel, still being copied, or on a share that is down"
    )


SPACES = re.compile(r"\s+")


def norm(text: str) -> str:
    """Header text compared case- and spacing-insensitively."""
    return SPACES.sub(" ", text).strip().casefold()
