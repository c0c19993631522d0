"""The base of every HTTP connector: the client, the retry and rate policy, auth, downloads.

A connector over HTTP (lapor, rest, open311) subclasses ``HttpConnector[ItsSettings]``
and keeps only what its transport does differently: its paths, its envelopes, its
auth headers (``auth_headers``) and which secrets to check when they are refused
(``auth_hint``). Everything else is here, the same for all of them:

- the ``httpx.Client`` for ``base_url`` (``bridge.http.client.make_client``), built
  once at construction and closed by ``close``;
- ``RetrySettings`` and the request rate from the settings (tests inject ``retry``
  and an httpx ``transport``);
- ``_send``: one request under the retry policy and the response bounds;
- ``download``: an attachment's bytes, fetched only where the attachment policy
  allows (``bridge.http.attachments``), with the connector's credentials only on
  its own attachment paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import ClassVar

import httpx
from pydantic import Field
from typing_extensions import TypeVar

from bridge.connector import Connector, ConnectorSettings
from bridge.errors import ReadRefused, RecordInvalid, RemoteRejected
from bridge.http import attachments
from bridge.http.client import HttpSettings, make_client
from bridge.http.retry import RequestFn, RetrySettings, send
from bridge.http.status import refused_read
from bridge.model import Attachment


class HttpConnectorSettings(ConnectorSettings):
    """The policy keys every HTTP connector takes, turned into the one HTTP policy here."""

    timeout_seconds: float = 30.0
    allow_insecure_http: bool = False
    verify_tls: bool = True
    retry_attempts: int = 4
    retry_max_seconds: float = 60.0
    max_requests_per_second: float | None = None
    max_response_bytes: int = Field(HttpSettings.max_response_bytes, ge=1024)
    max_attachment_bytes: int = Field(HttpSettings.max_attachment_bytes, ge=1)
    request_deadline_seconds: float = Field(HttpSettings.request_deadline, gt=0)
    attachment_hosts: tuple[str, ...] = ()
    """Hosts besides base_url's that attachments may be fetched from (without credentials)."""
    attachment_path_prefixes: tuple[str, ...] | None = None
    """Paths on base_url's origin whose files are fetched with the connector's credentials.

    Relative ones (``files/``) are under base_url's path, absolute ones (``/storage/``)
    under its origin. None: the connector type's own default.
    """

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            read_timeout=self.timeout_seconds,
            verify_tls=self.verify_tls,
            allow_insecure_http=self.allow_insecure_http,
            max_requests_per_second=self.max_requests_per_second,
            max_response_bytes=self.max_response_bytes,
            max_attachment_bytes=self.max_attachment_bytes,
            request_deadline=self.request_deadline_seconds,
        )

    def retry_settings(self) -> RetrySettings:
        return RetrySettings(attempts=self.retry_attempts, max_total=self.retry_max_seconds)


DEFAULT_CONCURRENCY = 16
"""Chosen by measurement (bench/README.md): 8 in flight gave 9.6x a serial copier at 50 ms
and 11x at 200 ms; 16 reach the 10x and 15x asked for, still under max_requests_per_second."""


class HttpApiSettings(HttpConnectorSettings):
    """The HTTP policy keys and the API's root, ``base_url``: what ``HttpConnector`` needs."""

    base_url: str
    max_concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=64)
    """Requests to this system in flight at once: creates (with their uploads), detail reads.

    Linked complaints' follow-up and status writes and re-polls too, one complaint's in
    order (``bridge.sync.linked_sending``); above 1, listing reads ahead one page.

    Still under ``max_requests_per_second``; a 429 pauses them all. 1: one at a time.
    """


HttpSettingsT = TypeVar("HttpSettingsT", bound=HttpApiSettings, default=HttpApiSettings)
ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


class HttpConnector(Connector[HttpSettingsT]):
    """A connector that speaks HTTP to ``base_url``; subclasses add their transport."""

    attachment_prefixes: ClassVar[tuple[str, ...]] = ()
    """Paths on base_url's origin fetched with our credentials, unless configured."""
    download_what: ClassVar[str] = "download attachment"
    """How a download is named in messages."""

    def __init__(
        self,
        name: str,
        settings: ConnectorSettings,
        *,
        retry: RetrySettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(name, settings)
        options = self.options
        self.http = replace(options.http_settings(), max_concurrency=options.max_concurrency)
        self.max_concurrency = options.max_concurrency
        self.retry = retry or options.retry_settings()
        self._auth_hint = self.auth_hint()
        prefixes = options.attachment_path_prefixes
        self._attachments = attachments.AttachmentPolicy(
            hosts=options.attachment_hosts,
            path_prefixes=self.attachment_prefixes if prefixes is None else prefixes,
            connector=name,
        )
        self._client = make_client(
            options.base_url, headers=self.auth_headers(), http=self.http, transport=transport
        )

    def auth_headers(self) -> dict[str, str]:
        """The credential headers every request carries (none by default)."""
        return {}

    def auth_hint(self) -> str:
        """Which settings to check when the server refuses our credentials (never values)."""
        return f"the secrets of connector {self.name!r}"

    def download(self, attachment: Attachment) -> bytes:
        """The attachment's bytes; our credentials go only to our own attachment paths."""
        if attachment.content is not None:
            return attachment.content
        if not attachment.url:
            raise RecordInvalid(f"attachment {attachment.filename!r} has neither content nor url")
        self._prepare()
        return attachments.fetch(
            self._client,
            attachment.url,
            policy=self._attachments,
            http=self.http,
            retry=self.retry,
            context=self._context(self.download_what),
        )

    def close(self) -> None:
        self._client.close()

    def _each(self, call: Callable[[ItemT], ResultT], items: Sequence[ItemT]) -> list[ResultT]:
        """``call`` for every item (a detail per listed record), up to ``max_concurrency``
        at once, under the client's rate and 429 pause; results in order. The first error
        is raised once every call has ended."""
        if self.max_concurrency <= 1 or len(items) <= 1:
            return [call(item) for item in items]
        workers = min(self.max_concurrency, len(items))
        with ThreadPoolExecutor(workers, thread_name_prefix=f"{self.name}-read") as pool:
            return list(pool.map(call, items))

    def _prepare(self) -> None:
        """Make the client ready to carry credentials (a login); nothing by default."""

    def _send(self, request_fn: RequestFn, context: str, *, idempotent: bool) -> httpx.Response:
        """``request_fn`` under the retry policy and bounds: its 2xx answer, or the error."""
        return send(
            self._client,
            request_fn,
            self.retry,
            idempotent=idempotent,
            context=context,
            auth_hint=self._auth_hint,
            bounds=self.http.bounds(),
        )

    def _refused(self, exc: RemoteRejected, path: str, keys: Sequence[str]) -> ReadRefused:
        """A refused read of ``path`` as the route's problem, naming the ``keys`` to check."""
        return refused_read(exc, self._client, path, connector=self.name, keys=keys)

    def _context(self, what: str) -> str:
        return f"{self.name}: {what}"
