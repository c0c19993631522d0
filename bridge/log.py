"""structlog set-up, and the redaction of secrets and personal data from every log line.

Every line passes through ``redact`` before it is rendered, whoever wrote it (our
code through structlog, or a library such as httpx through the standard ``logging``
module), because a line cannot be taken back once it has reached a log collector
(TRAPS.md: API keys in URLs and response bodies ended up in logs).

What ``redact`` does to an event dict, walking nested dicts and lists:

- the value of a *secret* key (``api_key``, ``password``, ``authorization``,
  anything ending in ``_token``/``_key``…) becomes ``"***"``;
- the value of a *personal-data* key (``nik``, ``phone``, ``nama``, ``nameUser``…)
  becomes a short digest such as ``"<pii:3f2a9c>"``: the same person gets the same
  digest in every line of a run, so they can be followed without being revealed;
- every other text (including the event and the exception text) is scrubbed for
  NIKs, Indonesian phone numbers, e-mail addresses, ``Bearer`` tokens, secret URL
  query values, URL passwords and every secret passed to ``register_secret``.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import re
import secrets
import sys
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal, TextIO, cast

import structlog
from pydantic import BaseModel
from structlog.typing import EventDict, Processor, WrappedLogger

from bridge.errors import BridgeError

LogFormat = Literal["auto", "json", "console"]
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
MASK = "***"

_SECRET_KEYS = frozenset(
    {"token", "api_key", "api_guid", "password", "secret", "authorization", "auth", "cookie"}
)
_SECRET_SUFFIXES = ("_token", "_key", "_password", "_secret", "_cookie")
# Matched whole: "name" alone is a person, but "status_name" or "category_name" is not.
_PII_KEYS = frozenset(
    {
        "name",
        "nama",
        "nama_lengkap",
        "full_name",
        "fullname",
        "username",
        "user_name",
        "atas_nama",
        "address",
        "nameuser",
        "phoneuser",
        "emailuser",
        "first_name",  # Open311
        "last_name",
    }
)
# Matched as one word of the key: "nama_pelapor", "no_hp", "phoneUser", "email_pelapor".
_PII_WORDS = frozenset(
    {"nik", "phone", "telp", "telepon", "hp", "handphone", "whatsapp", "email"}
    | {"pelapor", "reporter", "alamat"}
)

_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_PHONE = re.compile(r"(?<![\w+])(?:\+62[\s-]?\d|62[\s-]?8|08)(?:[\s-]?\d){7,11}(?!\d)")
# Starts only where a run of address characters starts: without the look-behind a
# long run with no "@" is rescanned from every position (quadratic on a 5 MB text).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:[\w-]*token|[\w-]*key|[\w-]*password|api_guid|secret)=)[^&;#\s\"'<>]+"
)
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")

# Per-process key: digests are stable within a run, but a short unkeyed hash of a
# 16-digit NIK could be reversed by trying the few NIKs of a known birth date.
_PII_KEY = secrets.token_bytes(16)
# Shorter secrets would mask every occurrence of a common word or number in every line.
_MIN_SECRET_LENGTH = 4
_registered: set[str] = set()
_registered_pattern: re.Pattern[str] | None = None

_HANDLER_MARK = "_bridge_handler"
_NOISY_LIBRARIES = ("httpx", "httpcore")
# APScheduler warns each time a route's run comes round while its last cycle still runs.
# With max_instances=1 and coalesce that is the design (a long backlog cycle), not a
# problem; under load it was most of the daemon's log. Kept at debug level.
_SCHEDULER_OVERRUN = "maximum number of running instances reached"


def _not_a_scheduler_overrun(record: logging.LogRecord) -> bool:
    return not (record.name.startswith("apscheduler") and _SCHEDULER_OVERRUN in str(record.msg))


def register_secret(value: str) -> None:
    """Scrub ``value`` wherever it appears in any later log text."""
    global _registered_pattern
    if len(value) < _MIN_SECRET_LENGTH or value in _registered:
        return
    _registered.add(value)
    # Longest first, so that a secret containing another is masked whole.
    alternatives = sorted(_registered, key=len, reverse=True)
    _registered_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def pii_digest(value: object) -> str:
    """A short digest standing for one piece of personal data, stable within this process."""
    text = str(value).strip().lower()
    digest = hmac.new(_PII_KEY, text.encode(), hashlib.blake2b).hexdigest()
    return f"<pii:{digest[:6]}>"


MAX_TEXT = 10_000  # longer values are cut: a log line or a set-aside record needs no more


def scrub_text(text: str) -> str:
    """``text`` with secrets masked and NIKs, phone numbers and e-mail addresses digested."""
    if len(text) > MAX_TEXT:
        text = f"{text[:MAX_TEXT]}…[{len(text) - MAX_TEXT} more characters]"
    if _registered_pattern is not None:
        text = _registered_pattern.sub(MASK, text)
    text = _BEARER.sub(rf"\g<1>{MASK}", text)
    text = _QUERY_SECRET.sub(rf"\g<1>{MASK}", text)
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    # E-mail before phone: an address may hold a run of digits.
    for pattern in (_EMAIL, _NIK, _PHONE):
        text = pattern.sub(lambda match: pii_digest(match.group()), text)
    return text


REASON_LIMIT = 500


def failure_reason(error: BaseException) -> str:
    """``Type: message`` on one line, for ``bridge status`` and a log event.

    The bridge's own errors are written to carry no secret and no personal data; any
    other exception (a bug, a RecursionError, a UnicodeEncodeError quoting a header)
    may quote anything, so its text is scrubbed. Either way it is cut to one line.
    """
    text = f"{type(error).__name__}: {error}"
    if not isinstance(error, BridgeError):
        text = scrub_text(text)
    line = " ".join(text.split())
    return line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 1] + "…"


def _key_words(key: str) -> list[str]:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return [word for word in re.split(r"[_\-\s.]+", snake.lower()) if word]


def _is_secret_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return normal in _SECRET_KEYS or normal.endswith(_SECRET_SUFFIXES)


def _is_pii_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return normal in _PII_KEYS or any(word in _PII_WORDS for word in _key_words(key))


def _redact_value(key: str, value: Any) -> Any:
    if value is None or value == "":
        return value  # "unset" is worth seeing and reveals nothing
    if _is_secret_key(key):
        return MASK
    if _is_pii_key(key):
        return pii_digest(_as_plain(value))
    return _walk(value)


def _as_plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _walk(value: Any) -> Any:
    value = _as_plain(value)
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bool | float) or value is None:
        return value
    if isinstance(value, int):
        # A NIK stored as a number is still a NIK.
        return pii_digest(value) if _NIK.fullmatch(str(value)) else value
    if isinstance(value, Mapping):
        return {str(k): _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_walk(item) for item in value]
    # Anything else (exceptions, paths, dates…) is rendered as text anyway: scrub that text.
    return scrub_text(str(value))


def redact_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a native record with secrets masked and personal data digested."""
    return {str(key): _redact_value(str(key), value) for key, value in record.items()}


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exc_info(value: object) -> ExcInfo | None:
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and value[0] is not None:
        return (value[0], value[1], value[2])
    if value is True:
        current = sys.exception()
        return None if current is None else _exc_info(current)
    return None


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secrets and personal data in every key and every text."""
    # Rendered here, not by the renderer, so that the traceback text is scrubbed too
    # (and so that no pretty traceback prints local variables holding secrets).
    info = _exc_info(event_dict.pop("exc_info", None))
    if info is not None:
        event_dict["exception"] = "".join(traceback.format_exception(*info))
    return {str(key): _redact_value(str(key), value) for key, value in event_dict.items()}


def _renderer(format: LogFormat, stream: TextIO) -> Processor:
    is_tty = stream.isatty()
    if format == "json" or (format == "auto" and not is_tty):
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=is_tty)


def _level_number(level: str) -> int:
    if level.lower() not in LOG_LEVELS:
        raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
    number: int = getattr(logging, level.upper())
    return number


def _shared_processors() -> list[Processor]:
    return [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(
    format: LogFormat = "auto",
    level: str = "info",
    stream: TextIO | None = None,
) -> None:
    """Send structured, redacted logs to ``stream`` (stderr by default).

    ``"json"``: one JSON object per line (``bridge run``); ``"console"``: readable
    lines; ``"auto"``: console on a terminal, JSON otherwise. Timestamps are ISO UTC.
    Raises ValueError for an unknown level.
    """
    # A TextIOBase with write/flush/isatty is all the loggers use of a TextIO.
    out = cast(TextIO, _CurrentStderr()) if stream is None else stream
    number = _level_number(level)
    renderer = _renderer(format, out)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            redact,
            *_shared_processors(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(number),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib_logging(out, number, renderer)


class _CurrentStderr(io.TextIOBase):
    """Whatever ``sys.stderr`` is when a line is written, not when logging was set up.

    Test runners and daemons swap ``sys.stderr``; holding on to the old one would
    write into a closed or forgotten stream.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def _route_stdlib_logging(stream: TextIO, level: int, renderer: Processor) -> None:
    """Send the standard ``logging`` records of libraries through the same redaction."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    if level > logging.DEBUG:
        handler.addFilter(_not_a_scheduler_overrun)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request at info: one line per page of every poll drowns the bridge's own.
    library_level = level if level <= logging.DEBUG else max(level, logging.WARNING)
    for name in _NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
