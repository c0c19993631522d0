"""Calls that worker threads hand to the engine's thread, and wait for there.

The linked sync of a complaint (``bridge.sync.updates``) reads, decides and writes in
one sequence: its remote calls may run on a worker thread, but every ledger call must
stay on the engine's thread (one SQLite connection, the lease fence, the order of
commits), as must every call to a connector not made for threads (``max_concurrency``
of 1: memory, sql, spreadsheet). ``on_engine`` wraps such an object: called from a
worker, each of its methods is queued here and the worker waits for the result; called
from the engine's thread, it runs at once. The engine's thread ``serve``\\s the queue
while it waits for the workers, so the code of a complaint reads as it always did.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

_WAKE = None
"""Queued when a worker's task ended: the engine's thread stops waiting for a call."""


class Desk:
    """The queue of calls workers hand to the thread that built it (the engine's)."""

    def __init__(self) -> None:
        self._engine = threading.get_ident()
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )

    def on_engine(self, target: T) -> T:
        """``target`` whose methods, called from a worker, run on the engine's thread."""
        return _OnEngine(target, self)  # type: ignore[return-value]

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)`` on the engine's thread; its result or its error here."""
        if threading.get_ident() == self._engine:
            return method(*args, **kwargs)
        future: Future[Any] = Future()
        self._calls.put((future, partial(method, *args, **kwargs)))
        return future.result()

    def wake(self) -> None:
        """A task ended: ``serve`` returns even when no call is waiting."""
        self._calls.put(_WAKE)

    def serve(self) -> None:
        """On the engine's thread: wait for one handed call (and make it) or one wake.

        It waits a second at most: the engine's thread may be the main thread (``bridge
        sync``), where a SIGTERM delivered to a worker only runs its handler once the main
        thread runs Python again (see ``bridge.daemon.scheduler``). Callers loop.
        """
        try:
            item = self._calls.get(timeout=1.0)
        except queue.Empty:
            return
        if item is _WAKE:
            return
        future, method = item
        try:
            future.set_result(method())
        except BaseException as exc:
            future.set_exception(exc)  # the worker raises it where the call was made
            if not isinstance(exc, Exception):
                raise  # Ctrl-C on the engine's thread: the cycle stops (after its workers)


class _OnEngine:
    """A stand-in for an object: its methods run on the engine's thread; data is read as is."""

    def __init__(self, target: Any, desk: Desk) -> None:
        self._target = target
        self._desk = desk

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        return partial(self._desk.call, value)

    def __repr__(self) -> str:
        return f"on_engine({self._target!r})"
