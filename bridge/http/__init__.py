"""The one HTTP layer every HTTP connector uses, in small modules with one job each.

Imports go one way, from the leaves up::

    body         read an answer under bounds (size, time, nesting); no trust in the server
    client       make_client: timeouts, TLS, headers, rate, no plain http, no redirects
    status       an answer's status → an error from bridge.errors; JSON bodies
    retry        send: one request under injected RetrySettings
    answers      what a 2xx answer says beyond its status (a failure envelope, an empty id)
    attachments  fetch a record's file without letting the record aim us anywhere
    connector    HttpConnector: the base class that puts the above together

The names below are the ones connectors and tests use most.
"""

from __future__ import annotations

from bridge.http.body import BoundedClient, Bounds
from bridge.http.client import (
    HttpSettings,
    RateLimiter,
    RequestEvent,
    make_client,
    watch_requests,
)
from bridge.http.connector import HttpApiSettings, HttpConnector, HttpConnectorSettings
from bridge.http.retry import Backoff, RequestFn, RetrySettings, send
from bridge.http.status import json_body, parse_retry_after, raise_for_status, refused_read

__all__ = [
    "Backoff",
    "BoundedClient",
    "Bounds",
    "HttpApiSettings",
    "HttpConnector",
    "HttpConnectorSettings",
    "HttpSettings",
    "RateLimiter",
    "RequestEvent",
    "RequestFn",
    "RetrySettings",
    "json_body",
    "make_client",
    "parse_retry_after",
    "raise_for_status",
    "refused_read",
    "send",
    "watch_requests",
]
