"""configure_logging: JSON or console output, ISO UTC times, levels, and redaction end to end."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
import structlog

from bridge.log import configure_logging
from bridge.privacy import register_secret

NIK = "3171234567890001"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_format_writes_one_json_object_per_line() -> None:
    """format="json" writes JSON lines with level, event and an ISO UTC timestamp."""
    stream = io.StringIO()
    configure_logging("json", stream=stream)

    structlog.get_logger().info("route.cycle.finished", route="sidumas-to-lapor", created=2)

    (line,) = _lines(stream)
    entry = json.loads(line)
    assert entry["event"] == "route.cycle.finished"
    assert (entry["level"], entry["route"], entry["created"]) == ("info", "sidumas-to-lapor", 2)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", entry["timestamp"])


def test_json_output_carries_no_secret_or_personal_data() -> None:
    """The rendered JSON text holds no secret, NIK, phone number or e-mail address."""
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    register_secret("json-secret-31ab")

    structlog.get_logger().warning(
        "complaint.rejected",
        api_key="key-77",
        nameUser="Budi",
        reason=f"NIK {NIK} taken, call 0812-3456-7890 or budi@example.com",
        url="https://h/x?token=json-secret-31ab",
    )

    text = stream.getvalue()
    for leaked in ("key-77", "Budi", NIK, "0812-3456-7890", "budi@example.com", "json-secret-31ab"):
        assert leaked not in text
    assert json.loads(text)["api_key"] == "***"


def test_exception_in_json_output_is_scrubbed() -> None:
    """A logged exception's text is in the JSON line, scrubbed."""
    stream = io.StringIO()
    configure_logging("json", stream=stream)

    try:
        raise RuntimeError(f"bad record {NIK}")
    except RuntimeError:
        structlog.get_logger().exception("record.failed")

    entry = json.loads(stream.getvalue())
    assert "RuntimeError: bad record <pii:" in entry["exception"]
    assert NIK not in stream.getvalue()


def test_console_format_is_readable_text() -> None:
    """format="console" writes a readable line, not JSON, still redacted."""
    stream = io.StringIO()
    configure_logging("console", stream=stream)

    structlog.get_logger().info("bridge.started", phone="081234567890")

    (line,) = _lines(stream)
    assert "bridge.started" in line
    assert "081234567890" not in line
    assert not line.startswith("{")


def test_console_exception_is_scrubbed() -> None:
    """The console renderer prints the scrubbed exception text, not a raw traceback."""
    stream = io.StringIO()
    configure_logging("console", stream=stream)

    try:
        raise RuntimeError(f"bad record {NIK}")
    except RuntimeError:
        structlog.get_logger().exception("record.failed")

    assert "RuntimeError: bad record <pii:" in stream.getvalue()
    assert NIK not in stream.getvalue()


def test_auto_format_is_json_when_not_a_terminal() -> None:
    """format="auto" writes JSON to a file or pipe."""
    stream = io.StringIO()
    configure_logging("auto", stream=stream)

    structlog.get_logger().info("x.y")

    assert json.loads(stream.getvalue())["event"] == "x.y"


def test_auto_format_is_console_on_a_terminal() -> None:
    """format="auto" writes readable lines to a terminal."""
    stream = _Terminal()
    configure_logging("auto", stream=stream)

    structlog.get_logger().info("x.y")

    assert "x.y" in stream.getvalue()
    assert not stream.getvalue().startswith("{")


def test_level_filters_lower_lines() -> None:
    """Lines below the configured level are not written."""
    stream = io.StringIO()
    configure_logging("json", level="warning", stream=stream)

    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")

    assert [json.loads(line)["event"] for line in _lines(stream)] == ["loud"]


def test_unknown_level_is_refused() -> None:
    """An unknown level name is a ValueError listing the known ones."""
    with pytest.raises(ValueError, match="debug, info, warning, error, critical"):
        configure_logging("json", level="verbose", stream=io.StringIO())


def test_context_variables_are_merged_and_redacted() -> None:
    """Bound context appears in every line and is redacted like any value."""
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    structlog.contextvars.bind_contextvars(run_id="r1", email="budi@example.com")

    structlog.get_logger().info("x.y")

    entry = json.loads(stream.getvalue())
    assert entry["run_id"] == "r1"
    assert entry["email"].startswith("<pii:")


def test_standard_logging_records_are_redacted_too() -> None:
    """Library lines sent through the logging module are rendered and scrubbed the same way."""
    stream = io.StringIO()
    configure_logging("json", stream=stream)

    logging.getLogger("httpx").warning("GET https://h/x?token=abc123 from %s", "budi@example.com")

    entry = json.loads(stream.getvalue())
    assert entry["event"].startswith("GET https://h/x?token=*** from <pii:")
    assert (entry["logger"], entry["level"]) == ("httpx", "warning")


def test_configuring_twice_does_not_double_lines() -> None:
    """Calling configure_logging again replaces the earlier set-up instead of adding to it."""
    stream = io.StringIO()
    configure_logging("json", stream=io.StringIO())
    configure_logging("json", stream=stream)

    logging.getLogger("bridge.test").warning("once")

    assert len(_lines(stream)) == 1


def test_standard_logging_exception_is_scrubbed() -> None:
    """A library's logged exception is rendered scrubbed, like our own."""
    stream = io.StringIO()
    configure_logging("json", stream=stream)

    try:
        raise ValueError(f"nik {NIK}")
    except ValueError:
        logging.getLogger("somelib").exception("boom")

    entry = json.loads(stream.getvalue())
    assert "ValueError: nik <pii:" in entry["exception"]
    assert NIK not in stream.getvalue()


@pytest.mark.parametrize(("level", "kept"), [("info", False), ("debug", True)])
def test_a_route_still_running_when_its_next_run_comes_is_not_a_warning(
    level: str, kept: bool
) -> None:
    """APScheduler's "skipped: maximum number of running instances" is the design, not news."""
    stream = io.StringIO()
    configure_logging("json", level, stream=stream)
    scheduler = logging.getLogger("apscheduler.scheduler")

    scheduler.warning(
        'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
        "sidumas-to-lapor",
        1,
    )
    scheduler.warning('Job "%s" raised an exception', "sidumas-to-lapor")

    events = [json.loads(line)["event"] for line in _lines(stream)]
    assert any("raised an exception" in e for e in events)
    assert any("maximum number of running instances" in e for e in events) is kept
