"""Syncing a route: observe a page, plan its actions, act on them; backfill; the wiring of routes.

The package, in the order a complaint goes through it:

- ``route``: what a cycle works on (``Route``) and how it differs (``CycleOptions``);
- ``cycle``: ``run_cycle``, page by page: observe → plan → act;
- ``observe``: a page of native records → ``Facts`` (everything the plan reads);
- ``plan``: facts → the final action for each record (pure);
- ``act``: carries the actions out, intents before creates, then commits the page;
- ``quarantine``: records set aside, retried and released;
- ``adoption``: linking to copies the target holds already (first pass, backfill);
- ``updates``, ``statuses``, ``followups``, ``repoll``: linked complaints afterwards;
- ``inflight``, ``sending``, ``linked_sending``, ``desk``, ``prefetch``: remote calls run
  concurrently (creates, linked complaints, the next listing page), the ledger's stay on the
  engine's thread;
- ``report``: what a cycle reports (``line_for`` serves the dry run and the real run);
- ``backfill``: one cycle over a window of history; ``wiring``: configuration → routes.

The rest of the bridge (the daemon, the CLI, the demo) and the tests use the names here.
"""

from __future__ import annotations

from bridge.sync.backfill import BackfillProgress, BackfillSummary, run_backfill
from bridge.sync.cycle import run_cycle
from bridge.sync.report import CycleReport, PlannedLine
from bridge.sync.route import CycleOptions, ForwardRule, Route
from bridge.sync.updates import read_only_note
from bridge.sync.wiring import build_routes, check_systems, close_routes

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
    "read_only_note",
    "run_backfill",
    "run_cycle",
]
