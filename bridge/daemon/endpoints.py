"""The daemon's HTTP server: ``/livez``, ``/readyz``, ``/metrics``, ``/status``, ``/status.json``.

Off unless ``[daemon] http = "host:port"`` is set. A WSGI application served by the
standard library's ``wsgiref`` with one thread per request, so a slow client never
holds up a probe. Every answer is read-only and built from the latest snapshot
(``bridge.daemon.snapshot``) or a cheap check; none shows personal data. The probes and
``/metrics`` stay open (a load balancer or Prometheus asks them); with ``http_user`` and
``http_password`` set, ``/status`` and ``/status.json`` need basic auth.
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from prometheus_client import CollectorRegistry, make_wsgi_app

from bridge.daemon.readiness import Readiness
from bridge.daemon.snapshot import SnapshotKeeper
from bridge.web import render_status_page

log = structlog.get_logger("bridge.daemon.http")
StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a stuck client never keeps the daemon from exiting


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the journal: requests are not logged."""


class StatusApp:
    """The WSGI application: one method per path."""

    def __init__(
        self,
        keeper: SnapshotKeeper,
        readiness: Readiness,
        registry: CollectorRegistry,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self._keeper = keeper
        self._readiness = readiness
        self._metrics = make_wsgi_app(registry)
        self._credentials = credentials

    def __call__(self, environ: Environ, start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _text(start, "405 Method Not Allowed", "read-only: use GET\n")
        if path == "/livez":
            return _text(start, "200 OK", "ok\n")
        if path == "/readyz":
            return self._ready(environ, start)
        if path == "/metrics":
            return self._metrics(environ, start)  # type: ignore[no-any-return]
        if path in ("/status", "/status.json", "/"):
            if not self._authorised(environ):
                headers = [("WWW-Authenticate", 'Basic realm="lapor-bridge status"')]
                return _text(start, "401 Unauthorized", "log in to see the status\n", headers)
            return self._status(path, environ, start)
        return _text(start, "404 Not Found", "see /status, /metrics, /livez, /readyz\n")

    def _ready(self, environ: Environ, start: StartResponse) -> Iterable[bytes]:
        checks = self._readiness.checks()
        failed = [c for c in checks if not c.ok]
        verbose = "verbose" in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if verbose:
            lines = [f"[{'+' if c.ok else '-'}]{c.name} {c.detail}" for c in checks]
            body = "\n".join(lines) + ("\nnot ready\n" if failed else "\nready\n")
        elif failed:
            body = f"not ready: {failed[0].name} {failed[0].detail}\n"
        else:
            body = "ok\n"
        return _text(start, "503 Service Unavailable" if failed else "200 OK", body)

    def _status(self, path: str, environ: Environ, start: StartResponse) -> Iterable[bytes]:
        snapshot = self._keeper.latest()
        if snapshot is None:
            return _text(start, "503 Service Unavailable", "starting: no state read yet\n")
        if path == "/status.json":
            body = json.dumps(snapshot.to_json(), ensure_ascii=False).encode()
            return _send(start, "200 OK", "application/json", body)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        lang = (query.get("lang") or [None])[0] or _language(environ.get("HTTP_ACCEPT_LANGUAGE"))
        page = render_status_page(snapshot, lang)
        return _send(start, "200 OK", "text/html; charset=utf-8", page.encode())

    def _authorised(self, environ: Environ) -> bool:
        if self._credentials is None:
            return True
        header = environ.get("HTTP_AUTHORIZATION", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            return False
        user, _, password = given.partition(":")
        expected_user, expected_password = self._credentials
        # compare_digest: the time taken never tells how much of the password was right.
        return hmac.compare_digest(user.encode(), expected_user.encode()) & hmac.compare_digest(
            password.encode(), expected_password.encode()
        )


class HttpServer:
    """The server thread: ``start`` binds (a busy port fails at once), ``stop`` closes."""

    def __init__(self, address: str, app: StatusApp) -> None:
        host, _, port = address.rpartition(":")
        self._server = make_server(
            host.strip("[]"), int(port), app, server_class=_Server, handler_class=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()
        log.info("daemon.http.started", port=self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _language(header: str | None) -> str:
    """ "id" when the browser prefers Bahasa Indonesia, else "en"."""
    first = (header or "").split(",")[0].strip().lower()
    return "id" if first.startswith(("id", "in")) else "en"


def _text(
    start: StartResponse, status: str, body: str, headers: list[tuple[str, str]] | None = None
) -> Iterable[bytes]:
    return _send(start, status, "text/plain; charset=utf-8", body.encode(), headers)


def _send(
    start: StartResponse,
    status: str,
    content_type: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    start(
        status,
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *(headers or []),
        ],
    )
    return [body]
