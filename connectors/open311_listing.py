"""How the Open311 connector walks one listing: time windows, then the server's pages.

GeoReport v2 has no pagination and caps each answer at ``max_results``, so a listing
walks time windows (``windows``) and splits a full one in half (``halves``). Many real
servers page anyway (``connectors.open311_pages``): their pages are followed to the end,
and a paged listing is complete only when the server says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import httpx
import structlog

from bridge.connector import NativeRecord
from bridge.errors import ProtocolError

from .open311_pages import Page, check_total, next_page_number, next_request
from .open311_settings import Open311Settings
from .open311_wire import ONE_SECOND, halves, page_key, windows, wire_time

log = structlog.get_logger("connectors.open311")

ReadPage = Callable[[str, str, "dict[str, str] | None"], Page]
"""(what, path or absolute URL, query or None to keep the URL's own) -> one answer."""
MAX_PAGES = 10_000
"""A server whose next link never ends is stopped here rather than looped on forever."""
MOVED_RETRIES = 3
"""Walks of one window while the server's declared total keeps changing under us."""


class _Moved(Exception):
    """The server's declared total changed between two pages of one walk."""


def bounds(low: datetime, high: datetime, *, by_update: bool) -> dict[str, str]:
    """The query bounding one window [low, high].

    ``start_date``/``end_date`` (inclusive) by default. ``by_update``: CitySDK's
    ``updated_after``/``updated_before``, which filter on ``updated_datetime`` but exclude
    both ends (the Django server of the Helsinki region), so each is widened by a second:
    a request changed exactly on a window's edge is listed by both neighbours and its
    copy dropped, never by neither. ``start_date`` is then not sent: it filters on
    ``requested_datetime`` and would hide an old request that changed.
    """
    if by_update:
        return {
            "updated_after": wire_time(low - ONE_SECOND),
            "updated_before": wire_time(high + ONE_SECOND),
        }
    return {"start_date": wire_time(low), "end_date": wire_time(high)}


class Listing:
    """One connector's listings, asked through ``read`` (which turns refusals into errors)."""

    def __init__(
        self, name: str, options: Open311Settings, read: ReadPage, base_url: httpx.URL
    ) -> None:
        self.name = name
        self.options = options
        self._read = read
        self._base_url = base_url

    def walk(
        self,
        path: str,
        what: str,
        start: datetime,
        end: datetime,
        extra: dict[str, str],
        *,
        by_update: bool = False,
    ) -> Iterator[list[NativeRecord]]:
        """Pages of one listing, one per time window from ``start`` to ``end``, oldest first.

        ``by_update``: bound the windows with ``updated_after``/``updated_before`` (see
        ``bounds``) instead of ``start_date``/``end_date``.
        """
        step = timedelta(days=self.options.window_days)
        for low, high in windows(start, end, step):
            yield from self._window(path, what, low, high, extra, by_update)

    def _window(
        self,
        path: str,
        what: str,
        low: datetime,
        high: datetime,
        extra: dict[str, str],
        by_update: bool,
    ) -> Iterator[list[NativeRecord]]:
        jurisdiction = self.options.jurisdiction_id
        params = {} if jurisdiction is None else {"jurisdiction_id": jurisdiction}
        params.update(extra)
        params.update(bounds(low, high, by_update=by_update))
        found, paged = self._steady(path, what, params)
        # A server that pages told us when it was done; one that does not page may have
        # cut the window off at its cap, so a full answer is asked again in halves.
        if paged or len(found) < self.options.max_results:
            if found:
                yield found
            return
        parts = halves(low, high)
        if not parts:
            raise ProtocolError(
                f"{self.name}: {what}: the server's cap of {self.options.max_results} results "
                f"is reached within one second ({wire_time(low)}), so some records cannot be "
                f"listed; raise the server's limit or set max_results to it"
            )
        log.info("open311.window.split", connector=self.name, listing=what, start=wire_time(low))
        for part_low, part_high in parts:
            yield from self._window(path, what, part_low, part_high, extra, by_update)

    def _steady(
        self, path: str, what: str, params: dict[str, str]
    ) -> tuple[list[NativeRecord], bool]:
        """``_listing``, read again while the listing moves under the walk.

        A request filed (or hidden) while the pages of a newest-first listing are read
        shifts every later page by one: one request is read twice and the new one never,
        or an older one never. The declared total then changes between two pages; such a
        walk is thrown away and the window read again.
        """
        for attempt in range(1, MOVED_RETRIES + 1):
            try:
                return self._listing(path, what, params)
            except _Moved:
                log.info(
                    "open311.listing.moved", connector=self.name, listing=what, attempt=attempt
                )
        raise ProtocolError(
            f"{self.name}: {what}: the server's listing changed while it was read, "
            f"{MOVED_RETRIES} times in a row (requests filed or removed meanwhile); nothing "
            "of it is taken as read and the next cycle asks again. If this repeats, lower "
            "window_days so that each window holds fewer pages"
        )

    def _listing(
        self, path: str, what: str, params: dict[str, str]
    ) -> tuple[list[NativeRecord], bool]:
        """Every page of one listing, and whether the server paged it.

        Pages are followed by their next link, else by ``page`` number. A page that
        brings nothing new means the server ignores ``page``: the listing then counts
        as unpaged, so a full answer is split by time instead.
        """
        size = self.options.page_size
        asked = params if size is None else {**params, "page_size": str(size)}
        query: dict[str, str] | None = asked
        url: str = path
        number, found, keys = 1, list[NativeRecord](), set[tuple[str, str]]()
        declared: int | None = None
        for _ in range(MAX_PAGES):
            page = self._read(what, url, query)
            if page.total is not None and declared not in (None, page.total):
                raise _Moved
            declared = page.total if declared is None else declared
            fresh = [r for r in page.records if page_key(r) not in keys]
            if number > 1 and not fresh:
                check_total(page, len(found), f"{self.name}: {what}")
                return found, False
            keys.update(page_key(r) for r in fresh)
            found.extend(fresh)
            if page.next_url is not None:
                url, query = next_request(page.next_url, self._base_url, path, what)
            elif (following := next_page_number(page, number, len(found), size)) is not None:
                url, query = path, {**asked, "page": str(following)}
            else:
                check_total(page, len(found), f"{self.name}: {what}")
                return found, page.paged or number > 1
            number += 1
        raise ProtocolError(
            f"{self.name}: {what}: more than {MAX_PAGES} pages in one window; "
            "lower window_days so each window holds fewer requests"
        )
