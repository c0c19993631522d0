"""The Open311 GeoReport v2 connector (DOMAIN.md §3), JSON format.

Every listing walks time windows (``start_date``/``end_date``, ``window_days`` wide, from
``since`` or ``start_date`` or two years back) and follows the server's own pages where
it has them; see ``connectors.open311_listing``. Explicit dates are always sent: a
server's default window (the last 90 days) would lose older changes.

Decisions ([A] = our assumption about servers, to check against the real one):

- Change feed: the standard says ``start_date``/``end_date`` filter on
  ``requested_datetime``; some servers filter on ``updated_datetime``. ``filter_field``
  says which: ``updated_datetime`` (the default) is a cursor feed; ``requested_datetime``
  makes the connector a scan (every cycle lists the whole history from ``start_date``),
  so a change to an old request is still seen on the next cycle, not at re-poll speed;
  ``updated_after`` lists by CitySDK's ``updated_after``/``updated_before`` (the Django
  server of the Helsinki region has them), a cursor feed on a server whose dates filter
  on ``requested_datetime``.
- The bridge's reference travels as the description's last line, ``[ref: lb…]``
  [A: Open311 has no field for it], shown as ``bridge_ref`` on every record read.
  ``find_by_ref`` walks every window for that exact line (only a lost create needs it).
- A create answered with a ``token`` only is resolved with ONE ``tokens/{token}.json``
  call; no id yet stops the route and the next cycle's ``find_by_ref`` adopts it. Any
  non-empty id is an id, ``0`` included.
- Follow-ups are the ``servicerequestupdates`` extension (``updates = true``), walked by
  windows from the request's ``requested_datetime``; only that request's updates with a
  description count (a bare status change is not a follow-up); ``id`` = ``update_id``.
  A 404 there means the server has none: follow-ups turn off, said once
  (``notices()``). ``updates_dialect = "mysociety"`` speaks open311-adapter's variant.
- ``add_followup`` posts an update carrying the request's current status (a note must
  not move it); ``set_status`` posts an update with the status and no description.
- ``api_key`` goes only into POST forms, as the standard requires; never into a URL, a
  log line or an error message (servers' error descriptions are scrubbed of it).
- Errors: the standard's list, ``{detail}`` or ``{message}`` (``open311_wire``); 401/403
  and a 400 naming an invalid api_key stop the route (``AuthError``); another 4xx
  refuses the record on a write and stops the route on a read (``ReadRefused``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from bridge.connector import ChangeFeed, ConnectorSettings, NativeRecord
from bridge.errors import ProtocolError, ReadRefused, RemoteRejected
from bridge.http.retry import RetrySettings
from bridge.model import Attachment

from .open311_http import Open311Http
from .open311_listing import Listing
from .open311_pages import Page
from .open311_settings import Open311Settings
from .open311_wire import (
    followups_of,
    parse_time,
    request_id,
    split_ref,
    status_answer,
    unseen_requests,
    wire_time,
    with_answer,
    with_ref,
)

__all__ = ["Open311Connector", "Open311Settings"]

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
DEFAULT_HISTORY = timedelta(days=2 * 365)
CLOCK_SKEW = timedelta(minutes=5)
"""Windows end this far past our clock, so a server whose clock runs ahead loses nothing."""
_REQUESTS = "requests"
_UPDATES = "servicerequestupdates"
ATTACHMENT_PREFIXES = ("/",)
"""Media on the server's own origin: any path, since our client carries no credentials."""


class Open311Connector(Open311Http):
    """Service requests of a GeoReport v2 server, listed by time window."""

    type = "open311"
    can_create = True
    change_feed: ChangeFeed = "cursor"
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
        # Follow-ups are always read (a request's status_notes is the city's answer);
        # writing them, and statuses, needs the updates extension.
        self.supports_followups = True
        self.can_add_followups = self.can_write_status = self.options.updates
        self._format = None if self.options.format == "auto" else self.options.format
        # A server filtering start_date on requested_datetime (as the standard says) never
        # lists an old request that changed: every cycle then reads the whole history and
        # the engine compares content, instead of trusting a cursor.
        if self.options.filter_field == "requested_datetime":
            self.change_feed = "scan"
        self.updates_note: str | None = None
        """Set once the server showed it has no updates extension."""

    def auth_hint(self) -> str:
        return f"secret api_key of connector {self.name!r}"

    # -- reading ---------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        if since is not None and since.utcoffset() is None:
            raise ValueError("`since` must be timezone-aware")
        if self.change_feed == "scan":
            since = None
        seen: set[tuple[str, str]] = set()
        for page in self._walk(self._path(_REQUESTS), "list requests", self._start(since), {}):
            fresh = unseen_requests(page, seen)
            if fresh:
                yield fresh

    def get(self, record_id: str) -> NativeRecord | None:
        path = self._path(f"requests/{quote(record_id, safe='')}")
        try:
            body = self._read("get request", path, self._params())
        except RemoteRejected as exc:
            if exc.status_code == 404:
                return None
            raise self._refused_listing(exc, path) from None
        return split_ref(body[0]) if body else None

    def find_by_ref(self, ref: str) -> str | None:
        for page in self._walk(self._path(_REQUESTS), "find by ref", self._start(None), {}):
            for record in page:
                if split_ref(record).get("bridge_ref") == ref:
                    return str(record["service_request_id"])
        return None

    def followups(self, record_id: str) -> list[NativeRecord]:
        """The request's updates (with the extension) and its ``status_notes``, oldest first."""
        request = self._existing(record_id)
        answer = status_answer(request)
        if not self.options.updates or self.updates_note is not None:
            return [] if answer is None else [answer]
        # An update cannot predate its request; a day's margin covers servers' odd clocks.
        opened = parse_time(request.get("requested_datetime"))
        start = self._start(None) if opened is None else opened - timedelta(days=1)
        # mySociety's extension refuses any filter but the dates; the others may ignore it.
        mine = (
            {} if self.options.updates_dialect == "mysociety" else {"service_request_id": record_id}
        )
        pages = self._walk(self._path(_UPDATES), "list updates", start, mine)
        try:
            return with_answer(followups_of(record_id, pages), answer)
        except ReadRefused as exc:
            if exc.status_code != 404:
                raise
            self._updates_absent()
            return [] if answer is None else [answer]

    def notices(self) -> list[str]:
        """What a person should know about this connector's set-up (``bridge doctor`` shows it)."""
        return [] if self.updates_note is None else [self.updates_note]

    # -- writing ---------------------------------------------------------------

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        form = {**record, "description": with_ref(record.get("description"), ref)}
        media = next((a.url for a in attachments if a.url), None)
        if media and not form.get("media_url"):
            form["media_url"] = media  # GeoReport v2 takes one URL; files cannot be uploaded
        body = self._write("create request", self._path(_REQUESTS), form)
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
        body = self._write("post update", self._path(_UPDATES), self._stamped(form))
        update_id = body[0].get("update_id") if body else None
        log.info("open311.update.posted", connector=self.name, record_id=record_id)
        return None if update_id in (None, "") else str(update_id)

    def set_status(self, record_id: str, fields: NativeRecord) -> None:
        self._needs_updates()
        form = {"description": "", **fields, "service_request_id": record_id}
        self._write("set status", self._path(_UPDATES), self._stamped(form))
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
        listing = Listing(self.name, self.options, self._page, self._client.base_url)
        # updated_after is a filter of the request listing only; updates take the dates.
        by_update = self.options.filter_field == "updated_after" and not path.startswith(_UPDATES)
        end = self._clock() + CLOCK_SKEW
        return listing.walk(path, what, start, end, extra, by_update=by_update)

    def _page(self, what: str, url: str, params: dict[str, str] | None) -> Page:
        try:
            return self._read_page(what, url, params)
        except RemoteRejected as exc:
            # A refused listing is the route's problem.
            raise self._refused_listing(exc, url) from None

    # -- internals -------------------------------------------------------------

    def _existing(self, record_id: str) -> NativeRecord:
        request = self.get(record_id)
        if request is None:
            raise RemoteRejected(f"{self.name}: no service request {record_id!r}", status_code=404)
        return request

    def _updates_absent(self) -> None:
        """The server has no ``servicerequestupdates``: follow-ups off, said once."""
        self.can_add_followups = self.can_write_status = False
        self.updates_note = (
            f"{self.name}: the server has no servicerequestupdates extension (HTTP 404), so "
            "follow-ups and status changes are not exchanged with it; set updates = false "
            f"for connector {self.name!r} to say so, or ask its operator for the extension"
        )
        log.warning("open311.updates.absent", connector=self.name, note=self.updates_note)

    def _needs_updates(self) -> None:
        if not self.options.updates:
            raise NotImplementedError(f"connector {self.name!r} has updates = false")
        if self.updates_note is not None:  # never post to a route the server showed is absent
            raise NotImplementedError(self.updates_note)

    def _stamped(self, form: NativeRecord) -> NativeRecord:
        stamped = {**form, "updated_datetime": wire_time(self._clock())}
        if self.options.updates_dialect == "mysociety":
            # open311-adapter wants the client's own update id and an upper-case status.
            stamped["update_id"] = uuid.uuid4().hex
            stamped["status"] = str(stamped.get("status") or "open").upper()
        return stamped

    def _resolve(self, token: Any) -> str:
        """The id behind a create's token, asked once; ProtocolError while there is none."""
        if token in (None, ""):
            raise ProtocolError(
                f"{self.name}: create answer has neither service_request_id nor token"
            )
        path = self._path(f"tokens/{quote(str(token), safe='')}")
        body = self._read("resolve token", path, self._params())
        context = f"{self.name}: the request was accepted with a token"
        new_id = request_id(body[0].get("service_request_id") if body else None, context)
        if new_id is None:
            raise ProtocolError(
                f"{context} but has no id yet; the next cycle looks it up by its reference"
            )
        log.info("open311.token.resolved", connector=self.name, record_id=new_id)
        return new_id
