"""At most ``limit`` remote calls in flight, their outcomes taken as soon as each ends.

With a limit of 1 nothing runs on another thread: the call is made at once, so a
connector that is not safe across threads (memory, sql, spreadsheet) is used exactly as
before. Threads, not asyncio: the connectors are synchronous ``httpx.Client`` code whose
pooled client is thread-safe, the ledger stays on the engine's thread, and the waiting
is on sockets, which release the GIL (bench/README.md has the measurement).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

Tag = TypeVar("Tag")
Out = TypeVar("Out")


class InFlight(Generic[Tag, Out]):
    """A queue of started calls, each with the ``Tag`` it was started for."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit = max(1, limit)
        self._pool = (
            ThreadPoolExecutor(self.limit, thread_name_prefix=name) if self.limit > 1 else None
        )
        self._started: list[tuple[Tag, Future[Out]]] = []

    def __len__(self) -> int:
        return len(self._started)

    def full(self) -> bool:
        """True when ``limit`` calls are still running: another must end first."""
        return sum(not future.done() for _, future in self._started) >= self.limit

    def wait(self) -> None:
        """Until one of the calls still running ends."""
        running = [future for _, future in self._started if not future.done()]
        if running:
            wait(running, return_when=FIRST_COMPLETED)

    def ready(self) -> bool:
        """True when a call has ended: its outcome may be taken without waiting."""
        return any(future.done() for _, future in self._started)

    def start(self, tag: Tag, call: Callable[[], Out]) -> None:
        """Start ``call`` (on a worker thread when the limit is above 1)."""
        if self._pool is not None:
            self._started.append((tag, self._pool.submit(call)))
            return
        future: Future[Out] = Future()
        try:
            future.set_result(call())
        except Exception as exc:  # noqa: BLE001 - handed over to whoever takes the outcome
            future.set_exception(exc)
        self._started.append((tag, future))

    def take(self) -> tuple[Tag, Future[Out]]:
        """The oldest call that has ended (waiting for one if none has), and its future.

        Taken as they end, not as they started: a slow create (one with files to upload)
        must not keep the searches and creates behind it from going on.
        """
        while True:
            for index, (tag, future) in enumerate(self._started):
                if future.done():
                    del self._started[index]
                    return tag, future
            self.wait()

    def close(self) -> None:
        """Wait for every call still running, then let the worker threads go."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
