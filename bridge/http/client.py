"""The one HTTP client policy every HTTP connector follows.

``make_client`` builds the ``httpx.Client``: timeouts, TLS, ``Accept`` and
``User-Agent`` headers, an optional request rate, and it refuses plain ``http://`` to
anything but loopback. Redirects are never followed (see ``make_client``).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bridge import __version__
from bridge.errors import ConfigError
from bridge.http.body import Bounds, unusable_header
from bridge.http.status import parse_retry_after

USER_AGENT = f"lapor-bridge/{__version__}"

MiB = 1024 * 1024


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
    max_concurrency: int = 1
    """Requests of this connector in flight at once (the engine's writes and detail reads)."""

    def bounds(self, limit: int | None = None) -> Bounds:
        """What one request may take; ``limit`` defaults to ``max_response_bytes``."""
        return Bounds(
            limit=self.max_response_bytes if limit is None else limit,
            deadline=self.request_deadline,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
        )


class RateLimiter:
    """Spaces one connector's requests, and holds them all while the server asks for a pause.

    Shared by every thread using one client: with ``per_second``, no more than that many
    requests start in any second (spaced for ``RATE_MARGIN`` of it); after a 429, no
    request starts before its ``Retry-After`` (``pause``), whichever thread got the 429.
    A request that would come too early waits for its slot; the slot is taken before
    waiting, so concurrent callers queue up in order instead of all waking at once. A
    thread that wakes late from its slot (many threads, one GIL) then waits once more, so
    that no more than ``per_second`` requests ever leave within one second.
    ``clock`` and ``sleep`` are injected so tests can check the spacing without waiting.
    """

    def __init__(
        self,
        per_second: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / (per_second * RATE_MARGIN) if per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()
        # When the last requests actually left: a thread that wakes late from its slot
        # (many threads, one GIL) must not leave together with the next one.
        self._left: deque[float] | None = (
            deque(maxlen=max(1, math.floor(per_second))) if per_second else None
        )

    def acquire(self) -> float:
        """Wait for this request's slot; return how long it waited."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return wait + self._leave()

    def _leave(self) -> float:
        """Wait until fewer than the rate's requests left in the last second; note this one."""
        left, waited = self._left, 0.0
        if left is None:
            return waited
        while True:
            with self._lock:
                now = self._clock()
                if len(left) < (left.maxlen or 1) or now - left[0] >= 1.0:
                    left.append(now)
                    return waited
                wait = left[0] + 1.0 - now
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """No request of this connector starts for ``seconds`` (a 429's ``Retry-After``)."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)

    def on_response(self, response: httpx.Response) -> None:
        """A 429 slows the whole connector, not only the thread that got it."""
        if response.status_code == TOO_MANY_REQUESTS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            self.pause(DEFAULT_PAUSE if retry_after is None else min(retry_after, MAX_PAUSE))


RATE_MARGIN = 0.95
"""Requests are spaced for 95 % of the configured rate: the way to the server and its own
event loop bunch requests up a little, and the server must never count one too many."""
TOO_MANY_REQUESTS = 429
DEFAULT_PAUSE = 1.0
"""Seconds every request of a connector waits after a 429 that names no Retry-After."""
MAX_PAUSE = 60.0
"""A Retry-After beyond this is the retry policy's to refuse (it gives up), not a pause's."""


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
    # Always one limiter per client: without a rate it still spreads a 429's pause to
    # every thread sending through this client.
    limiter = RateLimiter(http.max_requests_per_second)
    hooks: dict[str, list[Callable[..., Any]]] = {
        # _started after the limiter's wait: the time on the wire only.
        "request": [lambda _request: limiter.acquire(), _started],
        "response": [limiter.on_response, _answered],
    }
    return httpx.Client(
        base_url=base_url,
        headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers},
        timeout=httpx.Timeout(http.read_timeout, connect=http.connect_timeout),
        verify=http.verify_tls,
        follow_redirects=False,
        transport=transport,
        event_hooks=hooks,
        limits=httpx.Limits(
            max_connections=max(http.max_concurrency, 10),
            max_keepalive_connections=max(http.max_concurrency, 10),
        ),
    )


@dataclass(frozen=True)
class RequestEvent:
    """One answer received (``status``), or one request about to be retried (``retry``)."""

    remote: str
    """The host asked: bounded by the configuration, never a complaint or a user."""
    status: int | None
    seconds: float
    retry: bool = False


_watchers: list[Callable[[RequestEvent], None]] = []


def watch_requests(watcher: Callable[[RequestEvent], None]) -> Callable[[], None]:
    """Call ``watcher`` for every answer and retry of every client (the daemon's metrics
    listen); returns what stops it. A watcher must be quick and must not raise."""
    _watchers.append(watcher)
    return lambda: _watchers.remove(watcher)


def tell_watchers(event: RequestEvent) -> None:
    for watcher in list(_watchers):
        watcher(event)


def _started(request: httpx.Request) -> None:
    request.extensions["lapor_bridge.started"] = time.perf_counter()


def _answered(response: httpx.Response) -> None:
    started = response.request.extensions.get("lapor_bridge.started")
    if _watchers and isinstance(started, float):
        seconds = time.perf_counter() - started
        tell_watchers(RequestEvent(response.request.url.host, response.status_code, seconds))


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


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Same scheme, host and port: the only place our credentials may go."""
    return (a.scheme, a.host.lower(), a.port) == (b.scheme, b.host.lower(), b.port)


def origin(url: httpx.URL) -> str:
    """scheme://host[:port] — what error messages may show (no path, no query, no userinfo)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"
