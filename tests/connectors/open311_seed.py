"""Helpers of the Open311 tests: a simulator state holding many requests a minute apart."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.testing.simulators.open311_state import Open311State


def seeded(n: int, now: datetime) -> Open311State:
    """A state whose clock reads ``now``, with ``n`` open requests from three days back."""
    state = Open311State(clock=lambda: now)
    at = now - timedelta(days=3)
    for minute in range(n):
        stamp = (at + timedelta(minutes=minute)).isoformat()
        state.insert_raw({"status": "open", "requested_datetime": stamp, "updated_datetime": stamp})
    return state
