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
- ``download`` fetches a file and sends our credentials only to our own origin.

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

from bridge import __version__
from bridge.connector import ConnectorSettings
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    RateLimited,
    ReadRefused,
    RecordInvalid,
    RemoteRejected,
    RetryableError,
)
from bridge.log import scrub_text

log = structlog.get_logger(__name__)

USER_AGENT = f"lapor-bridge/{__version__}"
MESSAGE_LIMIT = 300

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


RequestFn = Callable[[httpx.Client], httpx.Response]


def make_client(
    base_url: str,
    *,
    headers: Mapping[str, str],
    http: HttpSettings,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for ``base_url`` under the bridge's policy.

    Redirects are not followed: a redirect to another host would carry our
    custom credential headers (``auth``, ``token``) along with it.
    """
    check_url_allowed(base_url, http)
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
        raise ConfigError([f"URL {_origin(parsed)!r} must start with https:// (or http://)"])
    if is_loopback(parsed.host) or http.allow_insecure_http:
        return
    raise ConfigError(
        [
            f"URL {_origin(parsed)!r} uses plain http to a host that is not loopback; "
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
        body = response.json()
    except (ValueError, RecursionError):  # not JSON, not UTF-8, too long a number, too deep
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
        return response.json()
    except RecursionError:  # nested deeper than Python's stack: no sane answer is
        raise ProtocolError(f"{context}: the JSON answer is nested too deeply to read") from None
    except ValueError:  # not JSON, not UTF-8, or a 5,000-digit number json refuses to read
        content_type = response.headers.get("Content-Type", "unknown")
        raise ProtocolError(
            f"{context}: expected a JSON answer, got {content_type!r} (HTTP {response.status_code})"
        ) from None


def send(
    client: httpx.Client,
    request_fn: RequestFn,
    retry: RetrySettings,
    *,
    idempotent: bool,
    context: str,
    auth_hint: str = "the connector's secrets",
) -> httpx.Response:
    """Send ``request_fn(client)`` and return its 2xx response, or raise the mapped error.

    Idempotent requests are retried on ``RetryableError``. Non-idempotent ones (creates)
    only on ``RateLimited``, whose status says the server did not process them.
    """

    def attempt() -> httpx.Response:
        try:
            response = request_fn(client)
        except httpx.TransportError as exc:
            # The class name says enough (ConnectError, ReadTimeout); str(exc) may hold a URL.
            raise RetryableError(f"{context}: {type(exc).__name__}") from exc
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


def download(
    client: httpx.Client,
    url: str,
    *,
    http: HttpSettings,
    retry: RetrySettings,
    context: str,
    auth_hint: str = "the connector's secrets",
) -> bytes:
    """The bytes at ``url``; ``client`` (with our credentials) is used only for its own origin.

    A URL on any other host is fetched by a fresh client with no credentials at all,
    so that a record pointing elsewhere can never make us leak a token.
    """
    target = client.base_url.join(url)
    if same_origin(target, client.base_url):
        response = send(
            client,
            lambda c: c.get(target),
            retry,
            idempotent=True,
            context=context,
            auth_hint=auth_hint,
        )
        return response.content
    try:
        check_url_allowed(str(target), http)
    except ConfigError as exc:
        raise RecordInvalid(f"{context}: {exc.problems[0]}") from None
    with make_client(_origin(target), headers={}, http=http) as plain:
        response = send(plain, lambda c: c.get(target), retry, idempotent=True, context=context)
        return response.content


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: the only place our credentials may go."""
    return (a.scheme, a.host.lower(), a.port) == (b.scheme, b.host.lower(), b.port)


def _origin(url: httpx.URL) -> str:
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

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            read_timeout=self.timeout_seconds,
            verify_tls=self.verify_tls,
            allow_insecure_http=self.allow_insecure_http,
            max_requests_per_second=self.max_requests_per_second,
        )

    def retry_settings(self) -> RetrySettings:
        return RetrySettings(attempts=self.retry_attempts, max_total=self.retry_max_seconds)
