"""structlog set-up: every log line redacted, rendered as JSON or for a console.

Every line passes through ``redact`` before it is rendered, whoever wrote it (our
code through structlog, or a library such as httpx through the standard ``logging``
module), because a line cannot be taken back once it has reached a log collector
(TRAPS.md: API keys in URLs and response bodies ended up in logs).

``redact`` applies ``bridge.privacy`` to the whole event dict: secret keys masked,
personal data digested, and every other text (including the event and the exception
text) scrubbed. ``failure_reason`` is the one-line text of an error for logs and
``bridge status``.
"""

from __future__ import annotations

import io
import logging
import sys
import traceback
from types import TracebackType
from typing import Literal, TextIO, cast

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from bridge.errors import BridgeError
from bridge.privacy import redact_record, scrub_text

LogFormat = Literal["auto", "json", "console"]
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

_HANDLER_MARK = "_bridge_handler"
# alembic logs two lines each time a schema is checked: every /readyz probe of the daemon.
_NOISY_LIBRARIES = ("httpx", "httpcore", "alembic.runtime.migration")
# APScheduler warns each time a route's run comes round while its last cycle still runs.
# With max_instances=1 and coalesce that is the design (a long backlog cycle), not a
# problem; under load it was most of the daemon's log. Kept at debug level.
_SCHEDULER_OVERRUN = "maximum number of running instances reached"


def _not_a_scheduler_overrun(record: logging.LogRecord) -> bool:
    return not (record.name.startswith("apscheduler") and _SCHEDULER_OVERRUN in str(record.msg))


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
    return redact_record(event_dict)


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
