"""A flaky LAPOR! (5xx and answers dropped after the write) over real HTTP: every run progresses."""

from __future__ import annotations

import pytest

from bridge.ledger import Ledger
from bridge.sync import build_routes, close_routes, run_cycle
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def _sync_once(sims: Sims) -> None:
    config = sims.config()
    with Ledger.open(config.ledger.url) as ledger:
        routes = build_routes(config, ledger, only="sidumas-to-lapor")
        try:
            run_cycle(routes[0])
        finally:
            close_routes(routes)


def test_each_sync_delivers_most_of_what_is_left_and_nothing_twice(sims: Sims) -> None:
    """20 % 503 and 30 % dropped create answers: each run delivers most of the rest, no doubles.

    Before, the first owed create ended the cycle: one or two complaints per run.
    """
    sims.look_up_at_once()
    # Lists and searches are retried by the HTTP policy; creates are not (never twice).
    sims.hub_post("faults", {"error_rate": 0.2, "drop_after_commit_rate": 0.3, "seed": 11})
    due = {
        str(r["id"]) for r in sims.door_state.records if not r.get("hide_pengaduan")
    }  # rahasia ones stay home
    delivered_per_run: list[float] = []
    for _ in range(8):
        left_before = len(due) - len(sims.hub_copies())
        if left_before == 0:
            break
        _sync_once(sims)
        left_after = len(due) - len(sims.hub_copies())
        delivered_per_run.append((left_before - left_after) / left_before)
    assert len(sims.hub_copies()) == len(due), delivered_per_run
    assert all(n == 1 for n in sims.hub_copies().values()), "a complaint was doubled"
    # The first run carried most of what was left: only a 503 on the create itself holds one
    # back (1 - 0.2 = 80 % expected). The dice are drawn in the order requests arrive, which
    # concurrent creates change: over seeds 11-21, one at a time and 8 at once alike, the
    # first run carried 63-90 %, the later ones (a handful left) 33-100 %, all within 4 runs.
    assert delivered_per_run[0] >= 0.6, delivered_per_run
    assert len(delivered_per_run) <= 4, delivered_per_run
