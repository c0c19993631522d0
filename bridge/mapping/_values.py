"""Codecs: one native value ↔ one canonical value, built once per field at load time.

``decode`` is only called with a present value (not None, not ""); it raises ``ValueError``
with a message fit for a quarantine reason (it never quotes free text, which may be
personal data). ``encode`` returns None when a value map has no code and the field
says ``on_unknown = "null"``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog
from pydantic import ValidationError

from bridge.mapping._paths import NativePath
from bridge.model import Attachment

log = structlog.get_logger("bridge.mapping")

YEARS = range(1990, 2101)  # a complaint dated outside this range is a typo or a broken clock
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "ya", "iya", "on"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "tidak", "tdk", "off"})


class Codec(Protocol):
    def decode(self, raw: Any) -> Any: ...

    def encode(self, value: Any) -> Any: ...


def native_key(raw: Any) -> str:
    """How a native code is spelled as a value-map key (TOML keys are always strings).

    ValueError for an int too long to print (Python's 4,300-digit limit): no system's code.
    """
    if type(raw) is str:  # the common case first: codes are mostly text
        return raw.strip()
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


class TextCodec:
    def __init__(self, native: str) -> None:
        self._as_int = native == "int"

    def decode(self, raw: Any) -> Any:
        if type(raw) is str and not self._as_int:  # the common case, as below
            return raw
        if isinstance(raw, dict | list | bool):
            raise ValueError(f"expected text, got {type(raw).__name__}")
        if self._as_int:
            return str(_to_int(raw))
        return raw if isinstance(raw, str) else native_key(raw)

    def encode(self, value: Any) -> Any:
        return _to_int(value) if self._as_int else value


def is_int_text(text: str) -> bool:
    digits = text.strip().removeprefix("-")
    return digits.isascii() and digits.isdigit()


def _to_int(raw: Any) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and is_int_text(raw):
        return int(raw)
    raise ValueError("expected an integer")


def shown(raw: Any) -> str:
    """A short repr of a bad value: enough to find it, too short to carry a whole text."""
    text = repr(raw)
    return text if len(text) <= 32 else f"{text[:29]}..."


class NumberCodec:
    def __init__(self, native: str) -> None:
        self._as_string = native == "string"

    def decode(self, raw: Any) -> Any:
        if type(raw) is float and math.isfinite(raw):  # the common case, as below
            return raw
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError("expected a number")
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"cannot read {shown(raw)} as a number") from None
        except OverflowError:
            # An int beyond a float's range (10**400) is no coordinate: refuse the record,
            # never let the OverflowError stop the whole cycle.
            raise ValueError("expected a number within a float's range") from None
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number

    def encode(self, value: Any) -> Any:
        return repr(value) if self._as_string else value


class BoolCodec:
    def __init__(self, write_as: str) -> None:
        self._write_as = write_as

    def decode(self, raw: Any) -> Any:
        word = native_key(raw).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(f"cannot read {shown(raw)} as yes/no; use 1/0, true/false or ya/tidak")

    def encode(self, value: Any) -> Any:
        if self._write_as == "bool":
            return bool(value)
        return ("1" if value else "0") if self._write_as == "string" else int(bool(value))


class DateTimeCodec:
    """Naive native times are read in ``zone``; times with an offset keep theirs."""

    def __init__(self, zone: ZoneInfo, formats: tuple[str, ...], write_format: str | None) -> None:
        self._zone = zone
        self._formats = formats
        self._write_format = write_format

    def decode(self, raw: Any) -> Any:
        if isinstance(raw, datetime):
            value = raw
        elif isinstance(raw, str):
            value = parse_datetime(raw.strip(), self._formats)
        else:
            raise ValueError(f"expected a date and time, got {type(raw).__name__}")
        check_year(value)
        return value if value.utcoffset() is not None else value.replace(tzinfo=self._zone)

    def encode(self, value: Any) -> Any:
        # Checked both ways: a canonical time near datetime.min/max overflows astimezone()
        # (OverflowError, which would stop the cycle), and years outside YEARS are typos.
        check_year(value)
        local = value.astimezone(self._zone)
        return local.strftime(self._write_format) if self._write_format else local.isoformat()


class DateCodec:
    def __init__(self, formats: tuple[str, ...], write_format: str) -> None:
        self._formats = formats
        self._write_format = write_format

    def decode(self, raw: Any) -> Any:
        if isinstance(raw, datetime):
            value: date = raw.date()
        elif isinstance(raw, date):
            value = raw
        elif isinstance(raw, str):
            value = parse_datetime(raw.strip(), self._formats).date()
        else:
            raise ValueError(f"expected a date, got {type(raw).__name__}")
        check_year(value)
        return value

    def encode(self, value: Any) -> Any:
        check_year(value)  # as when reading: year 2 would be written as "2", unreadable back
        return value.strftime(self._write_format)


def parse_datetime(text: str, formats: tuple[str, ...]) -> datetime:
    """Try each declared format in order, then ISO-8601."""
    for fmt in formats:
        # The common shape (zero-padded ASCII digits) without strptime's regex and locale
        # work; any other text, and any value datetime() refuses, goes to strptime as before.
        fast = _fixed_width(fmt)
        if fast is not None and (found := fast[0].fullmatch(text)) is not None:
            n = [int(number) for number in found.group(*fast[1])] + [0, 0, 0]  # time: 0
            try:
                return datetime(n[0], n[1], n[2], n[3], n[4], n[5])
            except ValueError:
                pass
        elif fast is not None and fast[2] and _SPACE.search(text) is None:
            # strptime reads a space in the format as \s+: a text without any whitespace
            # (an ISO time such as 2026-03-01T10:00:00+07:00) cannot match it.
            continue
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        expected = ", ".join((*formats, "ISO-8601"))
        raise ValueError(
            f"cannot read {shown(text)} as a date; expected one of: {expected}"
        ) from None


_ORDER = ("Y", "m", "d", "H", "M", "S")  # datetime()'s arguments
_WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
_SEPARATORS = frozenset("-/:T ")
_SPACE = re.compile(r"\s")  # what strptime's patterns read a format's spaces as (\s+)


@functools.cache
def _fixed_width(fmt: str) -> tuple[re.Pattern[str], tuple[str, ...], bool] | None:
    """A pattern reading ``fmt``'s zero-padded ASCII form, its groups in datetime's order,
    and whether ``fmt`` has a space (which strptime matches with one or more whitespace).

    Only for %Y %m %d, then %H, %M, %S in that order of need (a prefix of them), each once,
    between the separators ``- / : T`` and space; None for any other format. What it
    matches strptime reads to the same datetime: strptime's own patterns take each padded
    field first, and also take unpadded or non-ASCII digits, which are left to it.
    """
    parts = re.split(r"(%.)", fmt)
    directives = tuple(part[1] for part in parts[1::2])
    names = tuple(d for d in _ORDER if d in directives)
    if (
        len(set(directives)) != len(directives)
        or names != _ORDER[: len(names)]
        or len(names) != len(directives)
        or len(names) < 3
        or not _SEPARATORS.issuperset("".join(parts[0::2]))
    ):
        return None
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part[1]}>[0-9]{{{_WIDTHS[part[1]]}}})"
        for i, part in enumerate(parts)
    )
    return re.compile(pattern), names, " " in fmt


def check_year(value: date) -> None:
    if value.year not in YEARS:
        raise ValueError(f"year {value.year} is outside {YEARS.start}..{YEARS.stop - 1}")


class TagsCodec:
    """LAPOR! ``tags_raw`` is one string of hashtags (``"#jalan #lb12"``); ``list``: a JSON list."""

    def __init__(self, native: str) -> None:
        self._as_list = native == "list"

    def decode(self, raw: Any) -> Any:
        if isinstance(raw, str):
            words = raw.replace(",", " ").split()
        elif isinstance(raw, list):
            words = [str(word) for word in raw]
        else:
            raise ValueError(f"expected tags, got {type(raw).__name__}")
        tags = (word.strip().lstrip("#") for word in words)
        return tuple(dict.fromkeys(tag for tag in tags if tag))

    def encode(self, value: Any) -> Any:
        if self._as_list:
            return list(value)
        # A hashtag is one word: a tag with spaces from another system is joined, not split.
        return " ".join("#" + "_".join(tag.split()) for tag in value)


class AttachmentsCodec:
    """A native list of file objects, each read through the ``items`` sub-paths."""

    def __init__(self, items: Mapping[str, NativePath]) -> None:
        self._items = dict(items)

    def decode(self, raw: Any) -> Any:
        if not isinstance(raw, list):
            raise ValueError(f"expected a list of files, got {type(raw).__name__}")
        return tuple(self._one(item) for item in raw)

    def _one(self, item: Any) -> Attachment:
        fields = {name: path.get(item) for name, path in self._items.items()}
        if not fields.get("filename") and fields.get("url"):
            fields["filename"] = str(fields["url"]).rstrip("/").rsplit("/", 1)[-1]
        if not fields.get("filename"):
            raise ValueError("a file has neither a file name nor a url")
        if fields.get("size") is not None:
            fields["size"] = _to_int(fields["size"])
        try:
            return Attachment(**{k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            # pydantic's own text quotes the input (input_value=...), which may be personal
            # data and would be stored as the quarantine reason: name the key only.
            where = ".".join(str(p) for p in exc.errors(include_input=False)[0]["loc"])
            raise ValueError(f"a file's {where or 'entry'} is not text") from None

    def encode(self, value: Any) -> Any:
        files: list[dict[str, Any]] = []
        for attachment in value:
            item: dict[str, Any] = {}
            for name, path in self._items.items():
                if (field := getattr(attachment, name)) is not None:
                    path.set(item, field)
            files.append(item)
        return files


class MappedCodec:
    """Native codes ↔ canonical values through a [values.NAME] table."""

    def __init__(
        self,
        table: str,
        values: Mapping[str, Any],
        native: str,
        on_unknown: str,
        *,
        fallback: str | None = None,
    ) -> None:
        self._table = table
        self._fallback = fallback
        self._values = dict(values)
        self._reverse: dict[Any, str] = {}
        for code, value in values.items():
            self._reverse.setdefault(value, code)  # first listed wins
        self._as_int = native == "int"
        self._on_unknown = on_unknown
        # Each value's native code, converted once (a code that does not convert raises
        # when it is written, as it always did).
        self._codes: dict[Any, Any] = {}
        for value, code in self._reverse.items():
            with contextlib.suppress(ValueError):
                self._codes[value] = _to_int(code) if self._as_int else code

    @property
    def table(self) -> str:
        """The ``[values.NAME]`` table this codec reads."""
        return self._table

    @property
    def fallback(self) -> str | None:
        """The canonical value an unmapped code stands for (``fallback``), or None."""
        return self._fallback

    def knows(self, raw: Any) -> bool:
        """Whether ``raw`` is a code of the table (``bridge mapping codes`` asks)."""
        try:
            return native_key(raw) in self._values
        except ValueError:
            return False

    def writes(self, value: Any) -> bool:
        """Whether canonical ``value`` has a code of its own here (else the fallback's)."""
        try:
            return value in self._reverse
        except TypeError:  # an unhashable value has no code
            return False

    def decode(self, raw: Any) -> Any:
        key = native_key(raw)
        if key in self._values:
            return self._values[key]
        if self._fallback is not None:
            # A citizen's complaint never waits on a code table: delivered with the
            # fallback, and the code named so someone adds it (`bridge mapping codes`).
            log.warning("mapping.code.unknown", table=self._table, code=shown(key))
            return self._fallback
        if self._on_unknown == "error":
            raise ValueError(f"unknown code {shown(key)}; add it to [values.{self._table}]")
        return key if self._on_unknown == "keep" else None

    def encode(self, value: Any) -> Any:
        try:
            return self._codes[value]
        except (KeyError, TypeError):  # no code of its own (or unhashable): as it always was
            pass
        code = self._reverse.get(value)
        if code is None and self._fallback is not None:
            log.warning("mapping.code.unknown", table=self._table, value=shown(value))
            code = self._reverse[self._fallback]
        if code is None:
            if self._on_unknown == "error":
                raise ValueError(
                    f"{shown(value)} has no native code; add one to [values.{self._table}]"
                )
            if self._on_unknown == "null":
                return None
            code = str(value)
        return _to_int(code) if self._as_int else code
