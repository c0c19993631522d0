"""Listing pipelined with acting: the next page is read while the current one is acted on.

Bounded to one page ahead, and only for a source made for threads (``max_concurrency``
above 1: the HTTP connectors, whose pooled client and rate limiter are shared safely);
a memory, sql or spreadsheet source is read as before, on the engine's thread.

Nothing about a page is decided or committed where it is read: the engine's thread
observes, plans, acts on and commits one page after another, so a page read ahead is
never committed before the page before it, and the cursor moves only as the pages are
committed (``bridge.sync.act``). A cycle that stops (a 429, the bridge stopping, a
record owed) closes the listing: the read ahead is waited for and its page discarded,
unseen — the next cycle lists it again from the cursor that did not move.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from typing import TypeVar

Page = TypeVar("Page")


def read_ahead(pages: Iterator[Page], *, threads: bool, name: str) -> Generator[Page, None, None]:
    """``pages``, each next one read on a thread while the caller works on the last.

    Close the iterator it returns when the caller stops early (``contextlib.closing``):
    the read in flight is waited for, and the listing closed.
    """
    if not threads:
        yield from pages
        return
    with ThreadPoolExecutor(1, thread_name_prefix=f"{name}-list") as pool:
        ahead: Future[Page | None] = pool.submit(next, pages, None)
        try:
            while (page := _result(ahead)) is not None:
                ahead = pool.submit(next, pages, None)
                yield page
        finally:
            with suppress(Exception):  # a page not acted on, or a failed read: unseen
                _result(ahead)
            close = getattr(pages, "close", None)
            if close is not None:
                close()


def _result(future: Future[Page | None]) -> Page | None:
    """The page read ahead, waited for a second at a time: the engine's thread may be the
    main thread, where a SIGTERM delivered to a worker runs its handler only once the main
    thread runs Python again (``bridge.daemon.scheduler``)."""
    while not future.done():
        wait([future], timeout=1.0)
    return future.result()
