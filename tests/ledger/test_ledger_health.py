"""Connector health in the ledger: failures counted by the database, shared by replicas."""

from __future__ import annotations

import threading
from datetime import timedelta

from bridge.errors import RetryableError
from bridge.health import PausePolicy
from bridge.ledger import Ledger

POLICY = PausePolicy(
    after_failures=3,
    first_pause=timedelta(seconds=30),
    max_pause=timedelta(minutes=10),
)
REPLICAS = 4
FAILURES_EACH = 25


def test_failures_in_a_row_pause_and_a_success_clears(ledger: Ledger) -> None:
    error = RetryableError("hub: HTTP 503")
    counted = [ledger.health.note_failure("hub", error, POLICY) for _ in range(3)]
    assert [h.failures for h in counted] == [1, 2, 3]
    assert counted[1].paused_until is None
    assert counted[2].paused_until is not None
    (stored,) = ledger.health.listed(["hub"])
    assert stored.failures == 3 and stored.paused_until == counted[2].paused_until

    ledger.health.note_success(["hub"])
    (cleared,) = ledger.health.listed(["hub"])
    assert cleared.failures == 0 and cleared.paused_until is None


def test_replicas_failing_at_once_are_all_counted(ledger_url: str, ledger: Ledger) -> None:
    """Several processes noting failures of one system together lose none of them."""
    start = threading.Barrier(REPLICAS)

    def replica() -> None:
        # An exception here fails the test: pytest reports unhandled thread exceptions as
        # warnings, and warnings are errors in this suite.
        with Ledger.open(ledger_url) as own:
            start.wait()
            for _ in range(FAILURES_EACH):
                own.health.note_failure("hub", RetryableError("hub: HTTP 503"), POLICY)

    threads = [threading.Thread(target=replica) for _ in range(REPLICAS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (stored,) = ledger.health.listed(["hub"])
    assert stored.failures == REPLICAS * FAILURES_EACH
