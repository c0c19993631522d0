"""Syncing a route: observe a page, plan its actions, act on them; backfill; the wiring of routes.

The rest of the bridge (the daemon, the CLI, the demo) and the tests use the sync engine
through the names here only.
"""

from __future__ import annotations

from bridge.backfill import BackfillProgress, BackfillSummary, run_backfill
from bridge.create import natural_key_text
from bridge.cycle import CycleOptions, CycleReport, ForwardRule, PlannedLine, Route
from bridge.engine import run_cycle
from bridge.linked import read_only_note
from bridge.routes import build_routes, check_systems, close_routes

__all__ = [
    "BackfillProgress",
    "BackfillSummary",
    "CycleOptions",
    "CycleReport",
    "ForwardRule",
    "PlannedLine",
    "Route",
    "build_routes",
    "check_systems",
    "close_routes",
    "natural_key_text",
    "read_only_note",
    "run_backfill",
    "run_cycle",
]
