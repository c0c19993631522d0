"""The one HTTP policy every HTTP connector follows.

- ``make_client`` builds the ``httpx.Client``: timeouts, TLS, ``Accept`` and
  ``User-Agent`` headers, and it refuses plain ``http://`` to anything but loopback.
- ``raise_for_status`` turns a response into an error from ``bridge.errors``, grouped
  by what the engine should do about it::

      401, 403                 → AuthError        (route stops; check the named secret)
      408, 425, 429            → RateLimited      (retry, honouring Retry-After)
      500, 502, 503, 504       → RetryableError   (retry)
      other 4xx                → RemoteRejected   (this record is set aside)
      3xx, other 5xx           → ProtocolError    (route stops)

  A *read* that lists, searches or fetches a record's detail is no record's write:
  connectors turn its ``RemoteRejected`` into ``ReadRefused`` with ``refused_read``
  (the route stops, and the message names the path and the keys to check).

- ``send`` runs one request through tenacity with injected ``RetrySettings``. A create
  is retried only after a 408/425/429, which say it was not processed: one whose answer
  was lost may have happened, and only the engine (ledger intent + ``find_by_ref``)
  may decide to create again.
- Every answer is streamed and read under ``Bounds`` (``bridge.http_body``): at most
  ``max_response_bytes`` decoded bytes, within ``request_deadline`` seconds, given up
  when the bridge is stopping; JSON nested too deep is refused before parsing.
- Attachments are fetched by ``bridge.attachments`` under the same bounds, with their
  own size limit, from allowed origins only.
- What a 2xx answer says beyond its status (a failure envelope, a created id that
  names nothing) is read by ``bridge.answers``.

Messages never carry secrets, headers or request bodies; a server's own message is
kept (truncated) because it is what an operator needs to fix a rejected record.
"""

from __future__ import annotations

import ipaddress
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog
import tenacity
from pydantic import Field

from bridge import __version__
from bridge.connector import ConnectorSettings
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    RateLimited,
    ReadRefused,
    RemoteRejected,
    RetryableError,
)
from bridge.http_body import BoundedClient, Bounds, parse_json, unusable_header
from bridge.privacy import scrub_text

log = structlog.get_logger(__name__)

USER_AGENT = f"lapor-bridge/{__version__}"
MESSAGE_LIMIT = 300
MiB = 1024 * 1024

_RATE_LIMIT_CODES = frozenset({408, 425, 429})
_RETRY_CODES = frozenset({500, 502, 503, 504})
_AUTH_CODES = frozenset({401, 403})


@dataclass(frozen=True)
class HttpSettings:
    """Transport settings for one connector's client."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    verify_tls: bool = True
    allow_insecure_http: bool = False
    max_requests_per_second: float | None = None
    """Every request this connector sends, retries included, is spaced to stay under it."""
    max_response_bytes: int = 32 * MiB
    """The largest API answer (a listing page, a detail), counted after decompression."""
    max_attachment_bytes: int = 10 * MiB
    """The largest attachment downloaded (LAPOR!'s upload limit is assumed to be 10 MB)."""
    request_deadline: float = 120.0
    """Wall-clock seconds one request may take, connect and every read together."""

    def bounds(self, limit: int | None = None) -> Bounds:
        """What one request may take; ``limit`` defaults to ``max_response_bytes``."""
        return Bounds(
            limit=self.max_response_bytes if limit is None else limit,
            deadline=self.request_deadline,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )


class RateLimiter:
    """Spaces requests so that no more than ``per_second`` start in any second.

    Shared by every thread using one client. A request that would come too early
    waits for its slot; the slot is taken before waiting, so concurrent callers
    queue up in order instead of all waking at once. ``clock`` and ``sleep`` are
    injected so tests can check the spacing without waiting.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this request's slot; return how long it waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait


@dataclass(frozen=True)
class RetrySettings:
    """How ``send`` retries, injected as data so that tests can retry without waiting.

    Waits grow exponentially from ``wait_initial`` with up to ``jitter`` seconds of
    randomness, never beyond ``wait_max`` each, and all attempts together stop
    after ``max_total`` seconds.
    """

    attempts: int = 4
    wait_initial: float = 0.5
    wait_max: float = 10.0
    max_total: float = 60.0
    jitter: float = 0.5


RequestFn = Callable[[BoundedClient], httpx.Response]


def make_client(
    base_url: str,
    *,
    headers: Mapping[str, str],
    http: HttpSettings,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for ``base_url`` under the bridge's policy.

    Redirects are not followed: a redirect to another host would carry our
    custom credential headers (``auth``, ``token``) along with it. A header value
    that cannot be sent (not ASCII, a line break) is a ConfigError naming the header.
    """
    check_url_allowed(base_url, http)
    bad = [name for name, value in headers.items() if unusable_header(name + value)]
    if bad:
        raise ConfigError(
            [
                f"the value for header {name!r} (from the connector's settings or secrets) "
                "holds characters a header cannot carry (only printable ASCII); check it "
                "for a pasted line break or a non-ASCII character"
                for name in bad
            ]
        )
    hooks: dict[str, list[Callable[..., Any]]] = {}
    if http.max_requests_per_second:
        limiter = RateLimiter(http.max_requests_per_second)
        hooks["request"] = [lambda _request: limiter.acquire()]
    return httpx.Client(
        base_url=base_url,
        headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers},
        timeout=httpx.Timeout(http.read_timeout, connect=http.connect_timeout),
        verify=http.verify_tls,
        follow_redirects=False,
        transport=transport,
        event_hooks=hooks,
    )


def check_url_allowed(url: str, http: HttpSettings) -> None:
    """ConfigError unless ``url`` is https, or plain http to loopback or explicitly allowed."""
    parsed = httpx.URL(url)
    if parsed.scheme == "https":
        return
    if parsed.scheme != "http":
        raise ConfigError([f"URL {origin(parsed)!r} must start with https:// (or http://)"])
    if is_loopback(parsed.host) or http.allow_insecure_http:
        return
    raise ConfigError(
        [
            f"URL {origin(parsed)!r} uses plain http to a host that is not loopback; "
            "use https://, or set allow_insecure_http = true for this connector if the "
            "network path is trusted"
        ]
    )


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def raise_for_status(
    response: httpx.Response, *, context: str, auth_hint: str = "the connector's secrets"
) -> None:
    """Return quietly for a 2xx answer; otherwise raise the error the status means.

    ``context`` names the call ("lapor: list complaints"); ``auth_hint`` names the
    secrets an operator should check, never their values.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in _AUTH_CODES:
        raise AuthError(f"{context}: HTTP {status}, credentials refused; check {auth_hint}")
    if status in _RATE_LIMIT_CODES:
        raise RateLimited(
            f"{context}: HTTP {status}, slow down",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status in _RETRY_CODES:
        raise RetryableError(f"{context}: HTTP {status}, server unavailable")
    if 400 <= status < 500:
        message = server_message(response) or response.reason_phrase or "no message"
        raise RemoteRejected(f"{context}: HTTP {status}: {message}", status_code=status)
    if 300 <= status < 400:
        raise ProtocolError(f"{context}: HTTP {status}, a redirect, which is never followed")
    raise ProtocolError(f"{context}: unexpected HTTP {status}")


def refused_read(
    exc: RemoteRejected, client: httpx.Client, path: str, *, connector: str, keys: Sequence[str]
) -> ReadRefused:
    """A refused listing, search or detail read as the route's problem, not one record's.

    Names the URL path that was asked (never the host's query, which may hold a
    reference or a search) and the configuration ``keys`` of ``connector`` to check.
    """
    asked = client.base_url.join(path).path
    check = " and ".join(keys)
    return ReadRefused(
        f"{exc.reason} (GET {asked}); check {check} of connector {connector!r}",
        status_code=exc.status_code,
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date), or None."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; an old-style date without zone too
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def server_message(response: httpx.Response) -> str | None:
    """The envelope's ``message``, truncated; None when the body is not such an envelope.

    Only this one key is used: bodies may echo the record (personal data) back.
    """
    try:
        body = parse_json(response.content)
    except ValueError:  # not JSON, not UTF-8, nested too deep, or a number too long to read
        return None
    if not isinstance(body, dict) or body.get("message") in (None, ""):
        return None
    # A server may echo what it was sent (our token, the reporter's NIK): scrub it first.
    return truncate(scrub_text(str(body["message"])))


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_body(response: httpx.Response, *, context: str) -> Any:
    """The parsed JSON body, or ProtocolError when the server did not answer JSON."""
    try:
        return parse_json(response.content)
    except ValueError as exc:  # not JSON, not UTF-8, nested too deep, a 5,000-digit number
        content_type = response.headers.get("Content-Type", "unknown")
        raise ProtocolError(
            f"{context}: expected a JSON answer, got {content_type!r} "
            f"(HTTP {response.status_code}): {truncate(str(exc), 80)}"
        ) from None


def send(
    client: httpx.Client,
    request_fn: RequestFn,
    retry: RetrySettings,
    *,
    idempotent: bool,
    context: str,
    auth_hint: str = "the connector's secrets",
    bounds: Bounds | None = None,
) -> httpx.Response:
    """Send ``request_fn(client)`` and return its 2xx response, or raise the mapped error.

    Idempotent requests are retried on ``RetryableError``. Non-idempotent ones (creates)
    only on ``RateLimited``, whose status says the server did not process them. The
    answer is read under ``bounds`` (default: ``HttpSettings()``'s).
    """
    bounded = BoundedClient(client, bounds or HttpSettings().bounds(), context=context)

    def attempt() -> httpx.Response:
        try:
            response = request_fn(bounded)
        except httpx.TransportError as exc:
            # The class name says enough (ConnectError, ReadTimeout); str(exc) may hold a URL.
            raise RetryableError(f"{context}: {type(exc).__name__}") from exc
        except httpx.RequestError as exc:  # a body that cannot be decoded, a bad URL
            raise ProtocolError(f"{context}: {type(exc).__name__}") from exc
        raise_for_status(response, context=context, auth_hint=auth_hint)
        return response

    # A create whose answer was lost may have happened: only a refusal that says the
    # request was not processed (408, 425, 429) may be sent again; anything else is
    # settled by the engine (the ledger's intent, then a lookup by reference).
    retried = RetryableError if idempotent else RateLimited
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retried),
        stop=tenacity.stop_after_attempt(max(1, retry.attempts))
        | tenacity.stop_after_delay(retry.max_total),
        wait=_Wait(retry),
        before_sleep=_log_retry(context),
        reraise=True,
    )
    return retrying(attempt)


class _Wait:
    """Exponential backoff with jitter, at least the server's Retry-After, at most wait_max."""

    def __init__(self, settings: RetrySettings) -> None:
        self.settings = settings

    def __call__(self, state: tenacity.RetryCallState) -> float:
        s = self.settings
        backoff = s.wait_initial * 2.0 ** (state.attempt_number - 1)
        backoff += random.uniform(0, s.jitter)  # noqa: S311 - jitter, not cryptography
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            backoff = max(backoff, error.retry_after)
        # Never sleep past the total budget: the stop condition would end it anyway.
        elapsed: float = state.seconds_since_start or 0.0
        return max(0.0, min(backoff, s.wait_max, s.max_total - elapsed))


def _log_retry(context: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "http.retry",
            context=context,
            attempt=state.attempt_number,
            wait=round(state.upcoming_sleep, 3),
            error=type(error).__name__,
        )

    return before_sleep


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: the only place our credentials may go."""
    return (a.scheme, a.host.lower(), a.port) == (b.scheme, b.host.lower(), b.port)


def origin(url: httpx.URL) -> str:
    """scheme://host[:port] — what error messages may show (no path, no query, no userinfo)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


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
