"""One call to LAPOR! v3 through the SPLP gateway: its two auth headers, its envelope,
its pages, and a refused read blamed on the route.

The base of ``LaporConnector``: what every request needs, whatever it asks. An HTTP 200
whose envelope says it failed is a failure (``bridge.http.answers``); a listing walks
pages by number until ``next_page_url`` is null; the complaint listing (#9), which
neither public client calls, is said plainly to be missing when it answers 404.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from bridge.connector import NativeRecord
from bridge.errors import ProtocolError, ReadRefused, RemoteRejected
from bridge.http import answers
from bridge.http.body import BoundedClient
from bridge.http.connector import HttpConnector
from bridge.http.retry import RequestFn
from bridge.http.status import json_body

from .lapor_settings import LaporSettings
from .lapor_wire import results_of


class LaporHttp(HttpConnector[LaporSettings]):
    """GET and POST to LAPOR!, each answer's envelope checked, listings walked by page."""

    def auth_headers(self) -> dict[str, str]:
        return {
            self.options.auth_header: f"Bearer {self.options.api_key.get_secret_value()}",
            "token": self.options.api_guid.get_secret_value(),
        }

    def auth_hint(self) -> str:
        return f"secrets api_key and api_guid of connector {self.name!r}"

    def _pages(
        self, path: str, params: dict[str, str], *, context: str, keys: Sequence[str] = ()
    ) -> Iterator[list[NativeRecord]]:
        """Pages of a LAPOR! listing until ``next_page_url`` is null.

        With ``keys``, a refused page is ``ReadRefused`` naming them (see ``_get``).

        The page number is counted here rather than following ``next_page_url``:
        that URL is the server's text and could point at another host, which would
        receive our credential headers.
        """
        page, previous_ids = 1, None
        while True:
            query = {**params, "page": str(page)}
            body = self._get(path, context, params=query, keys=keys)
            results = results_of(body, self._context(context))
            data = results.get("data")
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise ProtocolError(f"{self._context(context)}: results.data is not a list")
            ids = [r.get("id") for r in data]
            if data and ids == previous_ids:
                # A gateway that ignores `page` would otherwise make us loop for ever.
                raise ProtocolError(f"{self._context(context)}: page {page} repeats the previous")
            if data:
                yield data
            if results.get("next_page_url") is None or not data:
                return
            page, previous_ids = page + 1, ids

    def _listing(
        self, params: dict[str, str], context: str, keys: Sequence[str]
    ) -> Iterator[list[NativeRecord]]:
        """The complaint listing (#9); its absence said plainly, since neither public client
        calls it and an integration may not have been given it."""
        try:
            yield from self._pages("complaints", params, context=context, keys=keys)
        except ReadRefused as exc:
            if exc.status_code != 404:
                raise
            raise ReadRefused(
                f"{exc}. If this LAPOR! integration was not given the complaint listing (#9): "
                "pulling complaints from LAPOR! and finding a create whose answer was lost "
                "both need it; ask the SP4N-LAPOR! operator to open it for this api_guid, or "
                "use this connector only as a route's target",
                status_code=404,
            ) from None

    def _get(
        self,
        path: str,
        context: str,
        *,
        params: dict[str, str] | None = None,
        keys: Sequence[str] = (),
    ) -> Any:
        """GET ``path``'s JSON. With ``keys`` (a listing, a search, a detail), a refusal is
        the route's problem, ``ReadRefused`` naming those settings; without, ``RemoteRejected``.
        """
        full = self._context(context)
        try:
            response = self._send(lambda c: c.get(path, params=params), full, idempotent=True)
        except RemoteRejected as exc:
            if not keys:
                raise
            raise self._refused(exc, path, keys) from None
        return json_body(response, context=full)

    def _send(self, request_fn: RequestFn, context: str, *, idempotent: bool) -> httpx.Response:
        def checked(client: BoundedClient) -> httpx.Response:
            response = request_fn(client)
            if response.is_success:  # an HTTP 200 whose envelope says it failed is a failure
                answers.raise_for_envelope(response, context=context, auth_hint=self._auth_hint)
            return response

        return super()._send(checked, context, idempotent=idempotent)
