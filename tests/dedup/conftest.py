"""Fixtures: the duplicate index's ledger tests run on SQLite and PostgreSQL alike."""

from __future__ import annotations

from tests.ledger.conftest import ledger, ledger_url

__all__ = ["ledger", "ledger_url"]
