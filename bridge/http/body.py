"""Reading an HTTP answer without trusting the server: bounded size, time and nesting.

- ``BoundedClient`` is what a request function (``bridge.http.retry.RequestFn``) sends
  with: httpx's ``get``/``post``, but every answer is streamed and read by
  ``read_body``, so no answer reaches memory whole before it is checked.
- ``read_body`` counts the *decompressed* bytes (a gzip bomb stops at the limit),
  keeps a wall-clock deadline for the whole request (httpx's timeouts are per read,
  so a server trickling one byte a second would never trip them) and gives up when
  the bridge is stopping (``bridge.shutdown``).
- ``parse_json`` refuses answers nested deeper than ``MAX_JSON_DEPTH`` before parsing,
  so a hostile ``[[[[…]]]]`` is a ``ValueError`` like any other bad JSON, never a
  ``RecursionError`` that escapes every handler.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bridge import shutdown
from bridge.errors import ProtocolError, RetryableError, ShuttingDown

MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
# Headers that described the bytes on the wire; the answer we hand on is already decoded.
_WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class TooLarge(ProtocolError):
    """An answer larger than its limit. Callers say which setting raises the limit."""

    def __init__(self, message: str, *, limit: int) -> None:
        self.limit = limit
        super().__init__(message)


@dataclass(frozen=True)
class Bounds:
    """What one request may take: ``limit`` bytes (decoded) within ``deadline`` seconds."""

    limit: int
    deadline: float
    connect_timeout: float
    read_timeout: float
    limit_key: str = "max_response_bytes"
    """The setting that raises ``limit``, named in the error."""


class BoundedClient:
    """``get``/``post`` like ``httpx.Client``'s, each answer read under ``bounds``.

    The returned response holds its decoded body in full, so ``.content`` and
    ``.json()`` work as usual; the wire headers that no longer describe it
    (``Content-Encoding``, ``Content-Length``) are dropped.
    """

    def __init__(self, client: httpx.Client, bounds: Bounds, *, context: str) -> None:
        self.client = client
        self.bounds = bounds
        self.context = context

    @property
    def base_url(self) -> httpx.URL:
        return self.client.base_url

    def get(self, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Response:
        if shutdown.stop_requested():
            raise ShuttingDown(f"{self.context}: not sent, the bridge is stopping")
        b = self.bounds
        ends_at = time.monotonic() + b.deadline
        # No single wait may outlast the whole request's deadline.
        timeout = httpx.Timeout(
            min(b.read_timeout, b.deadline), connect=min(b.connect_timeout, b.deadline)
        )
        request = self.client.build_request(method, url, timeout=timeout, **kwargs)
        response = self.client.send(request, stream=True)
        try:
            body = read_body(response, b, ends_at=ends_at, context=self.context)
        finally:
            response.close()
        headers = [(k, v) for k, v in response.headers.multi_items() if k not in _WIRE_HEADERS]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=request,
            extensions={"reason_phrase": response.extensions.get("reason_phrase", b"")},
        )


def read_body(response: httpx.Response, bounds: Bounds, *, ends_at: float, context: str) -> bytes:
    """The decoded body; an error once it passes ``bounds.limit`` bytes or ``ends_at`` passes."""
    declared = response.headers.get("Content-Length", "")
    expected = None
    if "content-encoding" not in response.headers and declared.isdigit():
        expected = int(declared)
        _check_size(expected, bounds, context)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        _check_size(size, bounds, context)
        chunks.append(chunk)
        # An answer already read whole is kept (a create's answer says what was made).
        if shutdown.stop_requested() and size != expected:
            raise ShuttingDown(f"{context}: abandoned, the bridge is stopping")
        if time.monotonic() > ends_at:
            raise RetryableError(
                f"{context}: the answer took longer than the request deadline; "
                "the server is too slow (raise request_deadline_seconds if it is only slow)"
            )
    return b"".join(chunks)


def _check_size(size: int, bounds: Bounds, context: str) -> None:
    if size > bounds.limit:
        raise TooLarge(
            f"{context}: the answer is larger than {bounds.limit} bytes; if it is genuine, "
            f"raise {bounds.limit_key} for this connector",
            limit=bounds.limit,
        )


def parse_json(raw: bytes | str) -> Any:
    """``json.loads``, but ``ValueError`` for answers nested deeper than ``MAX_JSON_DEPTH``."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if nesting_depth(data) > MAX_JSON_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(raw)


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (strings skipped), without parsing it."""
    depth = deepest = 0
    for found in _JSON_BRACKET.finditer(_JSON_STRING.sub(b"", raw)):
        if found.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break  # deep enough to refuse; no need to scan the rest
        else:
            depth -= 1
    return deepest


def unusable_header(value: str) -> bool:
    """True when ``value`` cannot be sent as a header: not printable ASCII, or with CR/LF."""
    return not all(" " <= ch <= "~" or ch == "\t" for ch in value)
