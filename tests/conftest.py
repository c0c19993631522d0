"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from connectors.memory import MemoryConnector
from tests.simulated import sims  # noqa: F401 - the simulators fixture, registered by import

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "mappings"
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
def _fresh_structlog() -> Iterator[None]:
    """A test that configures logging (a level filter, a stream) leaves nothing behind:
    ``capture_logs`` in a later test must see every event again."""
    yield
    structlog.reset_defaults()
