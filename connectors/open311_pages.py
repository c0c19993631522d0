"""How an Open311 server pages a listing, read from one answer (pure, no I/O).

GeoReport v2 itself has no paging, but real servers add it, and a client that ignores it
loses every request past the first page while its cursor moves on. The shapes read here:

- headers, as the Django GeoReport v2 server of the City of Helsinki sends them
  (``X-Next-Page-URL``, ``X-Page-Count``, ``X-Page-Size``, ``X-Result-Count``; see
  ``tests/connectors/fixtures/open311_paged.json``);
- an RFC 8288 ``Link: <…>; rel="next"`` header;
- a Django REST framework body ``{"count", "next", "previous", "results": [...]}``;
- ``page``/``page_size`` query parameters with no signal at all (``page_size`` set in the
  connector's settings): a full page means "ask the next one".

A listing is complete only when nothing more is announced; a total announced but not
delivered is a ``ProtocolError`` (the cursor must not move past what was never read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog

from bridge.errors import ProtocolError

log = structlog.get_logger("connectors.open311")


@dataclass(frozen=True)
class Page:
    """One answer of a listing: its records and what it says about the rest."""

    records: list[dict[str, Any]]
    next_url: str | None = None
    """The next page's absolute URL, when announced."""
    page_count: int | None = None
    total: int | None = None
    """The number of results of the whole listing, when the server declares it."""

    @property
    def paged(self) -> bool:
        """Whether the server said anything about pages."""
        return any(v is not None for v in (self.next_url, self.page_count, self.total))


def _count(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _link_next(response: httpx.Response) -> str | None:
    link = response.links.get("next") if "link" in response.headers else None
    return link.get("url") if link else None


def read_page(response: httpx.Response, body: Any) -> Page | None:
    """The page ``body`` (already parsed) is; None when it is not a list of objects."""
    headers = response.headers
    next_url = headers.get("X-Next-Page-URL") or _link_next(response)
    total = _count(headers.get("X-Result-Count")) if "X-Result-Count" in headers else None
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        next_url = next_url or (str(body["next"]) if body.get("next") else None)
        total = total if total is not None else _count(body.get("count"))
        body = body["results"]
    if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
        return None
    pages = _count(headers.get("X-Page-Count")) if "X-Page-Count" in headers else None
    if next_url:  # relative links are relative to the answer's own URL
        next_url = str(response.request.url.join(next_url))
    return Page(body, next_url=next_url or None, page_count=pages, total=total)


def next_page_number(page: Page, number: int, received: int, page_size: int | None) -> int | None:
    """The ``page`` number to ask next when paging by number, or None when this was the last.

    A declared page count or total wins; without either, a page of exactly ``page_size``
    records (when set) may have more behind it, so the next page is asked.
    """
    if page.page_count is not None:
        return number + 1 if number < page.page_count else None
    if page.total is not None:
        return number + 1 if received < page.total and page.records else None
    if page_size is not None and len(page.records) >= page_size:
        return number + 1
    return None


def check_total(page: Page, received: int, context: str) -> None:
    """ProtocolError when the server declared more results than its pages delivered."""
    if page.total is not None and received < page.total:
        raise ProtocolError(
            f"{context}: the server announced {page.total} results but its pages held "
            f"{received}; nothing past them is taken as read. Check that the server's "
            "paging is reachable (X-Next-Page-URL, page) and report it to its operator"
        )


def next_request(
    link: str, base: httpx.URL, path: str, context: str
) -> tuple[str, dict[str, str] | None]:
    """Where to ask a next page announced as ``link``: (URL or path, query or None).

    On ``base``'s origin, the link itself. Elsewhere, the link's query asked of our own
    ``path``: behind a proxy that ends TLS, the Django server builds its next links with
    its own view of the request (``http://`` for an ``https://`` base, or an internal host
    name), and following them would fail or leave the server we were configured for. A
    link to another resource than ``path`` is refused.
    """
    url = httpx.URL(link)
    if (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port):
        return str(url), None
    if url.path.rsplit("/", 1)[-1] != path.rsplit("/", 1)[-1]:
        raise ProtocolError(
            f"{context}: the server's next page is on another origin ({url.host}) and "
            f"another resource ({url.path}); refusing to follow it. Check base_url"
        )
    log.info("open311.next_link.rebased", host=url.host, scheme=url.scheme)
    return path, dict(url.params)
