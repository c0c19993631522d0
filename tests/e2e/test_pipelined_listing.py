"""The next page is read while the current one is acted on, and never committed before it.

LAPOR! → SIDUMAS over real HTTP, LAPOR!'s listing in pages of 5 (a cursor feed), 4 creates
in flight. The LAPOR! connector's listing is watched page by page; the read of page 2 and
the first create of page 1 wait for each other at a barrier, so the proof never depends on
latency: a bridge that lists only after acting never reads page 2 while page 1's creates
are out, the wait breaks. The ledger's intents and page commits are watched too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from bridge.errors import RateLimited
from bridge.model import make_ref
from bridge.sync import Route, run_cycle
from tests.simulated import Sims, one_route

pytestmark = pytest.mark.e2e

BADUNG = 1001
COMPLAINTS = 15
PAGE = 5
WAIT = 60  # only a bridge that reads no page ahead ever waits this long


@dataclass
class Watch:
    """Pages as LAPOR! listed them; the ledger's intents and commits, in order."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    meet: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=WAIT))
    pages: list[list[str]] = field(default_factory=list)
    """The refs of each page read, in reading order."""
    second_read: threading.Event = field(default_factory=threading.Event)
    events: list[tuple[str, int]] = field(default_factory=list)
    """("intents" | "commit", page index) as the ledger was written."""
    cursors: list[str] = field(default_factory=list)

    def page_of(self, refs: Sequence[str]) -> int:
        with self.lock:
            found = {i for i, page in enumerate(self.pages) for ref in refs if ref in page}
        assert len(found) == 1, f"one ledger write spanned pages {found}"
        return found.pop()


def _watch(route: Route, watch: Watch, on_create: Callable[[str], None]) -> None:
    pull = route.source.pull

    def watched_pull(since: datetime | None = None) -> Iterator[list[dict[str, Any]]]:
        pages = pull(since)
        while True:
            if len(watch.pages) == 1:  # page 2's read waits for page 1's first create
                with contextlib.suppress(threading.BrokenBarrierError):
                    watch.meet.wait()
            page = next(pages, None)
            if page is None:
                return
            with watch.lock:
                watch.pages.append([make_ref("lapor", str(r["id"])) for r in page])
            if len(watch.pages) == 2:
                watch.second_read.set()
            yield page

    create = route.target.create

    def watched_create(record: Any, attachments: Sequence[Any], ref: str) -> str:
        on_create(ref)
        return create(record, attachments, ref)

    memory = route.memory
    record_intents, complete_page = memory.record_intents, memory.complete_page

    def watched_intents(intents: Sequence[Any], **kwargs: Any) -> None:
        watch.events.append(("intents", watch.page_of([i.ref for i in intents])))
        record_intents(intents, **kwargs)

    def watched_commit(results: Sequence[Any] = (), **kwargs: Any) -> None:
        if results:
            watch.events.append(("commit", watch.page_of([r.ref for r in results])))
        if kwargs.get("cursor") is not None:
            watch.cursors.append(kwargs["cursor"])
        complete_page(results, **kwargs)

    route.source.pull = watched_pull  # type: ignore[method-assign]
    route.target.create = watched_create  # type: ignore[method-assign]
    memory.record_intents = watched_intents  # type: ignore[method-assign]
    memory.complete_page = watched_commit  # type: ignore[method-assign]


@contextlib.contextmanager
def _route(sims: Sims) -> Iterator[Route]:
    text = sims.config_path.read_text(encoding="utf-8")
    text = text.replace('type = "lapor"\n', f'type = "lapor"\npage_size = {PAGE}\n')
    text = text.replace('type = "rest"\n', 'type = "rest"\nmax_concurrency = 4\n')
    sims.config_path.write_text(text, encoding="utf-8")
    sims.look_up_at_once("lapor-to-sidumas")  # the create the 429 stopped is looked up at once
    sims.hub_state.seed_from_corpus(COMPLAINTS)
    for tracking_id, complaint in sims.hub_state.complaints.items():
        if complaint["disposition_id"] != BADUNG:
            sims.hub_state.dispose(tracking_id, BADUNG)
    with one_route(sims, "lapor-to-sidumas") as route:
        yield route


def _in_door(sims: Sims) -> list[str]:
    return [str(r["ref_eksternal"]) for r in sims.door_state.records if r.get("ref_eksternal")]


def test_the_next_page_is_read_while_this_one_s_creates_are_out_and_committed_after_it(
    sims: Sims,
) -> None:
    """Page 2 is read while page 1's creates are in flight; pages commit in listing order."""
    watch = Watch()

    def on_create(ref: str) -> None:
        if ref in watch.pages[0]:  # page 1's first create meets the read of page 2
            with contextlib.suppress(threading.BrokenBarrierError):
                watch.meet.wait()

    with _route(sims) as route:
        _watch(route, watch, on_create)
        report = run_cycle(route)

    assert report.ok, report.error
    assert not watch.meet.broken, "page 2 was never read while page 1's creates were out"
    assert len(watch.pages) == COMPLAINTS // PAGE
    # Each page's intents come after the commit of the page before it, then its own commit.
    assert watch.events == [(kind, page) for page in range(3) for kind in ("intents", "commit")]
    assert watch.cursors and watch.cursors == sorted(watch.cursors)
    assert sorted(_in_door(sims)) == sorted(ref for page in watch.pages for ref in page)


def test_a_stopped_page_moves_no_cursor_and_the_page_read_ahead_is_dropped(sims: Sims) -> None:
    """A 429 on page 1 with page 2 already read: no cursor, nothing of page 2; a rerun does all."""
    watch = Watch()
    watch.meet.abort()  # no meeting here: page 2 is read at once

    limited: list[str] = []

    def on_create(ref: str) -> None:
        if ref == watch.pages[0][1] and not limited:
            limited.append(ref)
            assert watch.second_read.wait(WAIT), "page 2 was not read ahead"
            raise RateLimited("sidumas: HTTP 429", retry_after=0)

    with _route(sims) as route:
        _watch(route, watch, on_create)
        stopped = run_cycle(route)
        assert not stopped.ok and "429" in (stopped.error or "")
        assert len(watch.pages) >= 2
        assert route.memory.cursor() is None and watch.cursors == []
        second = set(watch.pages[1])
        assert not second & set(_in_door(sims))
        assert not route.memory.pending_creates(sorted(second))
        assert ("intents", 1) not in watch.events

        with watch.lock:
            watch.pages.clear()
        watch.events.clear()
        again = run_cycle(route)
        assert again.ok, again.error
        assert route.memory.cursor() is not None
    door = _in_door(sims)
    assert len(door) == len(set(door)) == COMPLAINTS
