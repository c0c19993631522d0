"""The Open311 simulator's paging, as the City of Helsinki's Django GeoReport v2 server pages.

``page`` (from 1) and ``page_size``/``per_page`` (capped) in the query; ``X-Next-Page-URL``,
``X-Previous-Page-URL``, ``X-Page-Count``, ``X-Page-Size`` and ``X-Result-Count`` in the
answer's headers, never in its body (a client reading only the body sees one page).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from bridge.testing.simulators.open311_state import PayloadError


def _positive(raw: str | None, default: int) -> int:
    try:
        number = int(raw) if raw is not None else default
    except ValueError:
        raise PayloadError(f"not a positive whole number: {raw!r}") from None
    if number < 1:
        raise PayloadError(f"not a positive whole number: {raw!r}")
    return number


class InvalidPage(LookupError):
    """A page past the last: the Django server answers 404 "Invalid page."."""


def paged(request: Request, found: list[dict[str, Any]], most: int) -> JSONResponse:
    """One page of ``found``, announced in headers only, as the Django server does."""
    params = request.query_params
    size = min(_positive(params.get("page_size") or params.get("per_page"), most), most)
    number = _positive(params.get("page"), 1)
    count = max(1, -(-len(found) // size))
    if number > count:
        raise InvalidPage("Invalid page.")
    headers = {"X-Page-Count": str(count), "X-Page-Size": str(size)}
    headers["X-Result-Count"] = str(len(found))
    if number < count:
        headers["X-Next-Page-URL"] = str(request.url.include_query_params(page=number + 1))
    if number > 1:
        headers["X-Previous-Page-URL"] = str(request.url.include_query_params(page=number - 1))
    return JSONResponse(found[(number - 1) * size : number * size], headers=headers)
