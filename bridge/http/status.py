"""What an HTTP answer means: its status turned into an error from ``bridge.errors``.

``raise_for_status`` groups statuses by what the engine should do about them::

    401, 403                 → AuthError        (route stops; check the named secret)
    408, 425, 429            → RateLimited      (retry, honouring Retry-After)
    500, 502, 503, 504       → RetryableError   (retry)
    other 4xx                → RemoteRejected   (this record is set aside)
    3xx, other 5xx           → ProtocolError    (route stops)

A *read* that lists, searches or fetches a record's detail is no record's write:
connectors turn its ``RemoteRejected`` into ``ReadRefused`` with ``refused_read``
(the route stops, and the message names the path and the keys to check).

Messages never carry secrets, headers or request bodies; a server's own message is
kept (truncated) because it is what an operator needs to fix a rejected record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bridge.errors import (
    AuthError,
    ProtocolError,
    RateLimited,
    ReadRefused,
    RemoteRejected,
    RetryableError,
)
from bridge.http.body import parse_json
from bridge.privacy import scrub_text

MESSAGE_LIMIT = 300

_RATE_LIMIT_CODES = frozenset({408, 425, 429})

_RETRY_CODES = frozenset({500, 502, 503, 504})

_AUTH_CODES = frozenset({401, 403})


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
