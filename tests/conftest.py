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
