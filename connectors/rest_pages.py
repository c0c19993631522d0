"""Reading a REST listing: dotted paths into JSON answers, and the listing's pages.

A ``rest`` connector's listing is paged by number (``page``), by an opaque cursor
(``cursor``) or not at all (``none``), as ``RestSettings`` says. ``pages`` walks it
with the connector's ``fetch`` (one GET of the listing with a query) and guards
against servers that would make it loop for ever.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from bridge.connector import NativeRecord
from bridge.errors import ProtocolError

from .rest_settings import RestSettings

Fetch = Callable[[dict[str, str]], Any]
"""One GET of the listing with this query; its JSON body."""

_MISSING = object()
_TOKEN_SPLIT = re.compile(r"[\s,;]+")


def pages(
    o: RestSettings, name: str, params: dict[str, str], fetch: Fetch
) -> Iterator[list[NativeRecord]]:
    """The listing's pages, as ``o.pagination`` says; empty pages are never yielded."""
    style = o.pagination
    if style == "none":
        page = records_at(o, name, fetch(params))
        if page:
            yield page
        return
    if style == "cursor":
        yield from _cursor_pages(o, name, params, fetch)
    else:
        yield from _numbered_pages(o, name, params, fetch)


def _numbered_pages(
    o: RestSettings, name: str, params: dict[str, str], fetch: Fetch
) -> Iterator[list[NativeRecord]]:
    number = o.first_page
    previous_ids: list[Any] | None = None
    while True:
        query = {**params, o.page_param: str(number)}
        if o.page_size and o.page_size_param:
            query[o.page_size_param] = str(o.page_size)
        body = fetch(query)
        page = records_at(o, name, body)
        ids = [r.get(o.id_field) for r in page]
        if page and ids == previous_ids:
            # A server that ignores the page parameter would otherwise loop for ever.
            raise ProtocolError(f"{name}: page {number} repeats the previous page")
        if page:
            yield page
        if _is_last_page(o, name, body, number, page):
            return
        number, previous_ids = number + 1, ids


def _is_last_page(
    o: RestSettings, name: str, body: Any, number: int, page: list[NativeRecord]
) -> bool:
    if not page:
        return True
    if o.last_page_path:
        last = dig(body, o.last_page_path, default=None)
        try:
            return number >= int(last)
        except (TypeError, ValueError):
            raise ProtocolError(
                f"{name}: no page number at last_page_path {o.last_page_path!r}"
            ) from None
    return o.page_size is not None and len(page) < o.page_size


def _cursor_pages(
    o: RestSettings, name: str, params: dict[str, str], fetch: Fetch
) -> Iterator[list[NativeRecord]]:
    assert o.cursor_param  # checked at construction
    assert o.next_cursor_path
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query = dict(params) if cursor is None else {**params, o.cursor_param: cursor}
        if o.page_size and o.page_size_param:
            query[o.page_size_param] = str(o.page_size)
        body = fetch(query)
        page = records_at(o, name, body)
        if page:
            yield page
        following = dig(body, o.next_cursor_path, default=None)
        if following in (None, ""):
            return
        cursor = str(following)
        if cursor in seen:
            raise ProtocolError(f"{name}: the listing cursor went back to an earlier one")
        seen.add(cursor)


def records_at(o: RestSettings, name: str, body: Any) -> list[NativeRecord]:
    records = dig(body, o.records_path, default=None)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ProtocolError(f"{name}: no list of records at records_path {o.records_path!r}")
    return records


def dig(body: Any, path: str, *, default: Any = _MISSING) -> Any:
    """The value at dotted ``path`` in ``body`` ("" is the body itself)."""
    value = body
    for key in filter(None, path.split(".")):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif default is _MISSING:
            raise KeyError(path)
        else:
            return default
    return value


def has_token(value: Any, ref: str) -> bool:
    """True when ``ref`` is one whole token (optionally ``#``-prefixed) of ``value``."""
    if value is None:
        return False
    items = value if isinstance(value, list) else _TOKEN_SPLIT.split(str(value))
    return any(str(item).strip().lstrip("#") == ref for item in items)
