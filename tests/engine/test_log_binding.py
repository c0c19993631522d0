"""The engine binds its logger once per page, not once for each complaint it creates."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from bridge.ledger import Ledger
from bridge.sync import outcomes, run_cycle, sending
from tests.engine.conftest import door_of, door_record, make_route


class CountedBinds:
    """A module's logger that counts how often a bound logger is made from it."""

    def __init__(self) -> None:
        self.binds = 0
        self._proxy = structlog.get_logger("bridge.engine")

    def bind(self, **values: Any) -> Any:
        self.binds += 1
        return self._proxy.bind(**values)

    def __getattr__(self, name: str) -> Any:
        self.binds += 1  # a lazy proxy binds for every line it logs
        return getattr(self._proxy.bind(), name)


def test_created_complaints_are_logged_with_one_bind_per_page(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30 complaints in pages of 10: 30 complaint.created lines with the route, 3 binds."""
    route = make_route(ledger, page_size=10)
    for i in range(1, 31):
        door_of(route).put(door_record(i))
    counted = CountedBinds()
    monkeypatch.setattr(outcomes, "log", counted)
    monkeypatch.setattr(sending, "log", counted)

    with capture_logs() as logs:
        report = run_cycle(route)

    assert report.ok and report.counts["create"] == 30
    created = [e for e in logs if e["event"] == "complaint.created"]
    assert len(created) == 30
    assert all(e["route"] == route.name and e["ref"] and e["target_id"] for e in created)
    assert counted.binds == 3
