"""The process-wide "stop now" flag that a hanging HTTP request checks.

``bridge run`` sets it on SIGTERM/SIGINT (``bridge.daemon.scheduler``); ``bridge.http.body``
checks it before each request and between the chunks of every answer, so a server
that trickles its answer cannot hold the daemon past a shutdown. The abandoned
request raises ``ShuttingDown`` (retryable): the cycle ends at its next safe point
with what it has committed, and the next start carries on.
"""

from __future__ import annotations

import threading

_STOP = threading.Event()


def request_stop() -> None:
    """Tell every request in this process to give up at its next chunk."""
    _STOP.set()


def stop_requested() -> bool:
    return _STOP.is_set()


def clear() -> None:
    """Forget a stop request (tests, and a daemon started again in the same process)."""
    _STOP.clear()
