"""The Open311 GeoReport v2 connector (DOMAIN.md §3), JSON format.

GeoReport v2 has no pagination and no search, and a server lists at most ``max_results``
requests (the standard's 1000) per call. So every listing walks time windows:
``start_date``/``end_date`` from ``since`` (or the ``start_date`` setting, or two years
back) to now, ``window_days`` at a time; a window that comes back full is split in half
and asked again, down to one second, so the cap never cuts anything off. Explicit dates
are always sent: a server's default window (the last 90 days) would lose older changes.

Decisions ([A] = our assumption about servers, to check against the real one):

- Change feed: ``start_date``/``end_date`` are taken to filter on ``updated_datetime``
  [A] (the standard says ``requested_datetime``; many servers filter on the update
  time). Against a server that filters on the request time, later changes to older
  requests are only seen when the engine re-polls linked complaints.
- The bridge's reference travels as the description's last line, ``[ref: lb…]``
  [A: Open311 has no field for it]. Every record read is shown with that line moved to
  ``bridge_ref``, so the description round-trips and the mapping reads the ref.
  ``find_by_ref`` walks every window for that exact line: slow, but only a create that
  lost its answer needs it.
- A create answered with a ``token`` only is resolved with ONE ``tokens/{token}.json``
  call; if that shows no id yet, ``ProtocolError`` stops the route, and the next
  cycle's ``find_by_ref`` adopts the request once the server has given it an id.
- Follow-ups are the ``servicerequestupdates`` extension (``updates = true``):
  ``followups(id)`` walks the update windows from the request's ``requested_datetime``,
  asking with ``service_request_id`` (a filter the extension does not define, so
  servers may ignore it [A]) and keeping only that request's updates. An update with
  no description is a bare status change, not a follow-up: the request's status says it.
  Each update is shown with ``id`` = its ``update_id``.
- ``add_followup`` posts an update carrying the request's current status (a note must
  not move it); ``set_status`` posts an update with the status and no description.
- ``api_key`` goes only into POST forms, as the standard requires; never into a URL, a
  log line or an error message (servers' error descriptions are scrubbed of it).
- Errors are the standard's list ``[{"code", "description"}]``: 401/403 stop the route
  (``AuthError``, check ``api_key``); another 4xx refuses the record on a write
  (``RemoteRejected``) and stops the route on a listing or a read (``ReadRefused``,
  naming the path and ``base_url``/``jurisdiction_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from bridge.connector import ConnectorSettings, NativeRecord
from bridge.errors import AuthError, ProtocolError, ReadRefused, RemoteRejected
from bridge.http.body import BoundedClient
from bridge.http.connector import HttpConnector
from bridge.http.retry import RequestFn, RetrySettings
from bridge.http.status import json_body
from bridge.model import Attachment

from .open311_pages import Page, check_total, next_page_number, read_page, same_origin
from .open311_settings import Open311Settings
from .open311_wire import (
    followups_of,
    form_fields,
    halves,
    list_of_objects,
    page_key,
    parse_time,
    refusal,
    request_id,
    split_ref,
    unseen_requests,
    windows,
    wire_time,
    with_ref,
)

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
DEFAULT_HISTORY = timedelta(days=2 * 365)
CLOCK_SKEW = timedelta(minutes=5)
"""Windows end this far past our clock, so a server whose clock runs ahead loses nothing."""
MAX_PAGES = 10_000
"""A server whose next link never ends is stopped here rather than looped on forever."""
_REQUESTS = "requests.json"
_UPDATES = "servicerequestupdates.json"
ATTACHMENT_PREFIXES = ("/",)
"""Media on the server's own origin: any path, since our client carries no credentials."""


class Open311Connector(HttpConnector[Open311Settings]):
    """Service requests of a GeoReport v2 server, listed by time window."""

    type = "open311"
    can_create = True
    change_feed = "cursor"
    can_find_by_ref = True
    attachment_prefixes = ATTACHMENT_PREFIXES
    download_what = "download media"  # a media_url file: public, no credential goes with it

    def __init__(
        self,
        name: str,
        settings: ConnectorSettings,
        *,
        retry: RetrySettings | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, settings, retry=retry, transport=transport)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.supports_followups = self.options.updates
        self.can_write_status = self.options.updates

    def auth_hint(self) -> str:
        return f"secret api_key of connector {self.name!r}"

    # -- reading ---------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        if since is not None and since.utcoffset() is None:
            raise ValueError("`since` must be timezone-aware")
        seen: set[tuple[str, str]] = set()
        for page in self._walk(_REQUESTS, "list requests", self._start(since), {}):
            fresh = unseen_requests(page, seen)
            if fresh:
                yield fresh

    def get(self, record_id: str) -> NativeRecord | None:
        path = f"requests/{quote(record_id, safe='')}.json"
        try:
            body = self._read("get request", path, self._params())
        except RemoteRejected as exc:
            if exc.status_code == 404:
                return None
            raise self._refused_listing(exc, path) from None
        return split_ref(body[0]) if body else None

    def find_by_ref(self, ref: str) -> str | None:
        for page in self._walk(_REQUESTS, "find by ref", self._start(None), {}):
            for record in page:
                if split_ref(record).get("bridge_ref") == ref:
                    return str(record["service_request_id"])
        return None

    def followups(self, record_id: str) -> list[NativeRecord]:
        self._needs_updates()
        request = self._existing(record_id)
        # An update cannot predate its request; a day's margin covers servers' odd clocks.
        opened = parse_time(request.get("requested_datetime"))
        start = self._start(None) if opened is None else opened - timedelta(days=1)
        pages = self._walk(_UPDATES, "list updates", start, {"service_request_id": record_id})
        return followups_of(record_id, pages)

    # -- writing ---------------------------------------------------------------

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        form = {**record, "description": with_ref(record.get("description"), ref)}
        media = next((a.url for a in attachments if a.url), None)
        if media and not form.get("media_url"):
            form["media_url"] = media  # GeoReport v2 takes one URL; files cannot be uploaded
        body = self._write("create request", _REQUESTS, form)
        answer = body[0] if body else {}
        new_id = request_id(answer.get("service_request_id"), f"{self.name}: create request")
        if new_id is None:
            return self._resolve(answer.get("token"))
        log.info("open311.request.created", connector=self.name, record_id=new_id)
        return new_id

    def add_followup(
        self, record_id: str, followup: NativeRecord, attachments: Sequence[Attachment]
    ) -> str | None:
        """Post an update with the request's current status; never retried."""
        self._needs_updates()
        status = followup.get("status") or self._existing(record_id).get("status") or "open"
        form = {**followup, "service_request_id": record_id, "status": status}
        media = next((a.url for a in attachments if a.url), None)
        if media and not form.get("media_url"):
            form["media_url"] = media
        body = self._write("post update", _UPDATES, self._stamped(form))
        update_id = body[0].get("update_id") if body else None
        log.info("open311.update.posted", connector=self.name, record_id=record_id)
        return None if update_id in (None, "") else str(update_id)

    def set_status(self, record_id: str, fields: NativeRecord) -> None:
        self._needs_updates()
        form = {"description": "", **fields, "service_request_id": record_id}
        self._write("set status", _UPDATES, self._stamped(form))
        log.info("open311.status.written", connector=self.name, record_id=record_id)

    # -- internals: windows ----------------------------------------------------

    def _start(self, since: datetime | None) -> datetime:
        if since is not None:
            return since
        return self.options.start_date or self._clock() - DEFAULT_HISTORY

    def _walk(
        self, path: str, what: str, start: datetime, extra: dict[str, str]
    ) -> Iterator[list[NativeRecord]]:
        """Pages of one listing, one per time window from ``start`` to now, oldest first."""
        end = self._clock() + CLOCK_SKEW
        step = timedelta(days=self.options.window_days)
        for low, high in windows(start, end, step):
            yield from self._window(path, what, low, high, extra)

    def _window(
        self, path: str, what: str, low: datetime, high: datetime, extra: dict[str, str]
    ) -> Iterator[list[NativeRecord]]:
        params = {**self._params(), **extra, "start_date": wire_time(low)}
        params["end_date"] = wire_time(high)
        found, paged = self._listing(path, what, params)
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
            yield from self._window(path, what, part_low, part_high, extra)

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
        for _ in range(MAX_PAGES):
            page = self._page(what, url, query)
            fresh = [r for r in page.records if page_key(r) not in keys]
            if number > 1 and not fresh:
                check_total(page, len(found), f"{self.name}: {what}")
                return found, False
            keys.update(page_key(r) for r in fresh)
            found.extend(fresh)
            if page.next_url is not None:
                base = self._client.base_url
                url, query = str(same_origin(httpx.URL(page.next_url), base, what)), None
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

    def _page(self, what: str, url: str, params: dict[str, str] | None) -> Page:
        try:
            return self._read_page(what, url, params)
        except RemoteRejected as exc:
            # A refused listing is the route's problem.
            raise self._refused_listing(exc, url) from None

    # -- internals: one call ---------------------------------------------------

    def _params(self) -> dict[str, str]:
        jurisdiction = self.options.jurisdiction_id
        return {} if jurisdiction is None else {"jurisdiction_id": jurisdiction}

    def _refused_listing(self, exc: RemoteRejected, path: str) -> ReadRefused:
        return super()._refused(exc, path, ("base_url", "jurisdiction_id"))

    def _existing(self, record_id: str) -> NativeRecord:
        request = self.get(record_id)
        if request is None:
            raise RemoteRejected(f"{self.name}: no service request {record_id!r}", status_code=404)
        return request

    def _needs_updates(self) -> None:
        if not self.options.updates:
            raise NotImplementedError(f"connector {self.name!r} has updates = false")

    def _stamped(self, form: NativeRecord) -> NativeRecord:
        return {**form, "updated_datetime": wire_time(self._clock())}

    def _resolve(self, token: Any) -> str:
        """The id behind a create's token, asked once; ProtocolError while there is none."""
        if token in (None, ""):
            raise ProtocolError(
                f"{self.name}: create answer has neither service_request_id nor token"
            )
        path = f"tokens/{quote(str(token), safe='')}.json"
        body = self._read("resolve token", path, self._params())
        context = f"{self.name}: the request was accepted with a token"
        new_id = request_id(body[0].get("service_request_id") if body else None, context)
        if new_id is None:
            raise ProtocolError(
                f"{context} but has no id yet; the next cycle looks it up by its reference"
            )
        log.info("open311.token.resolved", connector=self.name, record_id=new_id)
        return new_id

    def _read(self, what: str, path: str, params: dict[str, str]) -> list[NativeRecord]:
        return self._read_page(what, path, params).records

    def _read_page(self, what: str, path: str, params: dict[str, str] | None) -> Page:
        """One answer; ``params`` None keeps the query of ``path`` (a server's next link)."""
        context = f"{self.name}: {what}"
        response = self._call(context, lambda c: c.get(path, params=params), write=False)
        page = read_page(response, json_body(response, context=context))
        if page is None:
            raise ProtocolError(f"{context}: expected a JSON list of objects")
        return page

    def _write(self, what: str, path: str, form: NativeRecord) -> list[NativeRecord]:
        """POST a form once: a lost answer may hide a write that happened."""
        data = {**form_fields(form), **self._params()}
        key = self.options.api_key
        if key is None:
            raise AuthError(
                f"{self.name}: {what} needs the api_key secret; set it for connector {self.name!r}"
            )
        data["api_key"] = key.get_secret_value()
        context = f"{self.name}: {what}"
        response = self._call(context, lambda c: c.post(path, data=data), write=True)
        body = list_of_objects(json_body(response, context=context))
        if body is None:
            raise ProtocolError(f"{context}: expected a JSON list of objects")
        return body

    def _call(self, context: str, request_fn: RequestFn, *, write: bool) -> httpx.Response:
        def checked(client: BoundedClient) -> httpx.Response:
            response = request_fn(client)
            key = self.options.api_key
            secrets = [key.get_secret_value()] if key else []
            error = refusal(response, context, secrets=secrets, auth_hint=self._auth_hint)
            if error is not None:
                raise error
            return response

        return self._send(checked, context, idempotent=not write)
