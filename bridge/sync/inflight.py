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
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, cast

Tag = TypeVar("Tag")
Out = TypeVar("Out")
Out_co = TypeVar("Out_co", covariant=True)


class Outcome(Protocol[Out_co]):
    """What ``take`` hands back: a ``Future``, or a ``Done`` for a call made at once."""

    def done(self) -> bool: ...
    def result(self) -> Out_co: ...


@dataclass(frozen=True)
class Done(Generic[Out]):
    """The outcome of a call made on the caller's thread: cheaper than a ``Future``."""

    value: Out | None
    error: Exception | None

    def done(self) -> bool:
        return True

    def result(self) -> Out:
        if self.error is not None:
            raise self.error
        return cast(Out, self.value)


class InFlight(Generic[Tag, Out]):
    """A queue of started calls, each with the ``Tag`` it was started for."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit = max(1, limit)
        self._pool = (
            ThreadPoolExecutor(self.limit, thread_name_prefix=name) if self.limit > 1 else None
        )
        self._started: list[tuple[Tag, Outcome[Out]]] = []

    def __len__(self) -> int:
        return len(self._started)

    def running(self) -> int:
        """How many calls have started and not ended."""
        return sum(not future.done() for _, future in self._started)

    def full(self) -> bool:
        """True when ``limit`` calls are still running: another must end first."""
        return self.running() >= self.limit

    def wait(self) -> None:
        """Until one of the calls still running ends, or a second passed (callers loop).

        Never an untimed wait: on the main thread (``bridge sync``) a SIGTERM delivered to
        a worker only runs its handler once the main thread runs Python again.
        """
        running = [f for _, f in self._started if isinstance(f, Future) and not f.done()]
        if running:
            wait(running, timeout=1.0, return_when=FIRST_COMPLETED)

    def ready(self) -> bool:
        """True when a call has ended: its outcome may be taken without waiting."""
        return any(future.done() for _, future in self._started)

    def start(self, tag: Tag, call: Callable[[], Out]) -> Outcome[Out]:
        """Start ``call`` (on a worker thread when the limit is above 1); its outcome."""
        if self._pool is not None:
            future = self._pool.submit(call)
            self._started.append((tag, future))
            return future
        try:
            done: Done[Out] = Done(call(), None)
        except Exception as exc:  # noqa: BLE001 - handed over to whoever takes the outcome
            done = Done(None, exc)
        self._started.append((tag, done))
        return done

    def take(self) -> tuple[Tag, Outcome[Out]]:
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
