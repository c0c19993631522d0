"""Privacy tests reuse the engine's memory route (door → hub) and its ledger fixture."""

from __future__ import annotations

from tests.engine.conftest import ledger  # noqa: F401 - fixture
