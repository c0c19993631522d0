"""Fixtures shared by the whole suite."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bridge.connectors.memory import MemoryConnector
from tests.simulated import sims  # noqa: F401 - the simulators fixture, registered by import

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "mappings"
LIBRARY_LOGGERS = ("httpx", "httpcore")  # configure_logging sets their levels too
ODD_DATE = "01/03/2026 10:00"  # d/m/Y: the shipped SIDUMAS mapping reads only Y-m-d H:M:S


def reading_dmy(mapping_text: str) -> str:
    """A SIDUMAS mapping's text, fixed to read ``ODD_DATE`` too (a quarantine's cause, healed)."""
    fixed = mapping_text.replace(
        'date_formats = ["%Y-%m-%d %H:%M:%S"]',
        'date_formats = ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"]',
        1,
    )
    assert "%d/%m/%Y" in fixed, "the SIDUMAS mapping's date_formats changed: update reading_dmy"
    return fixed


@pytest.fixture(autouse=True)
def _fresh_memory_stores() -> Iterator[None]:
    """Shared memory stores never leak from one test into the next."""
    MemoryConnector.reset_stores()
    yield
    MemoryConnector.reset_stores()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A test that configures logging (a level filter, a stream, the CLI's own set-up)
    leaves nothing behind: ``capture_logs`` in a later test must see every event again."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    libraries = {name: logging.getLogger(name).level for name in LIBRARY_LOGGERS}
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, library_level in libraries.items():
        logging.getLogger(name).setLevel(library_level)
