"""Backfill over memory connectors: a SIDUMAS-shaped door, a LAPOR!-shaped hub, a real ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from bridge.connectors.memory import REF_KEY, MemoryConnector
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.sync import BackfillSummary, Route, run_backfill
from tests.conftest import MAPPINGS
from tests.engine.conftest import cursor_mapping, ledger, memory  # noqa: F401 - fixtures

SINCE = date(2023, 1, 1)


def door_route(
    book: Ledger,
    *,
    feed: str = "scan",
    page_size: int = 3,
    source_mapping: Path | None = None,
) -> tuple[Route, MemoryConnector, MemoryConnector]:
    """door (memory, SIDUMAS mapping) → hub (memory, LAPOR! mapping), pages of ``page_size``."""
    door = memory("door", feed=feed, page_size=page_size)
    hub = memory("hub", feed="cursor", page_size=page_size)
    route = Route(
        name="door-to-hub",
        source=door,
        target=hub,
        source_mapping=load_mapping(source_mapping or MAPPINGS / "sidumas.toml"),
        target_mapping=load_mapping(MAPPINGS / "lapor.toml"),
        ledger=book,
    )
    return route, door, hub


def backfill(route: Route, **options: Any) -> BackfillSummary:
    """run_backfill with the defaults of a plain `bridge backfill --since 2023-01-01`."""
    settings: dict[str, Any] = {
        "since": SINCE,
        "until": None,
        "limit": None,
        "dry_run": False,
        "rate": None,
    }
    return run_backfill(route, **(settings | options))


def refs_in(connector: MemoryConnector) -> list[str]:
    """The bridge references of every record the bridge created in a memory connector."""
    return [str(r[REF_KEY]) for r in connector.records() if REF_KEY in r]
