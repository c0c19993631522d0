"""A tiny real HTTP server on 127.0.0.1 whose answers a test scripts byte by byte.

For the hostile upstreams the simulators do not play: gzip bombs, bodies larger than a
limit, answers that trickle, redirects. ``serve({"/path": handler})`` runs it in a thread;
a handler gets the request handler and writes the whole answer itself.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class RawServer:
    url: str
    closing: threading.Event
    """Set when the server stops, so a trickling handler ends too."""
    requests: list[tuple[str, dict[str, str]]]
    """(path, headers) of every request, in order."""


@contextmanager
def serve(routes: dict[str, Handler]) -> Iterator[RawServer]:
    """Serve ``routes`` (exact paths, query ignored) on a free loopback port; 404 elsewhere."""
    closing = threading.Event()
    seen: list[tuple[str, dict[str, str]]] = []

    class Handle(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            seen.append((path, dict(self.headers.items())))
            # Read a request body whole, or its bytes would be taken for the next request.
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            routes.get(path, not_found)(self)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RawServer(f"http://127.0.0.1:{server.server_address[1]}", closing, seen)
    finally:
        closing.set()
        server.shutdown()
        server.server_close()


def answer(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    """A whole answer at once."""

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)

    return handle


def json_answer(value: Any, *, status: int = 200) -> Handler:
    return answer(json.dumps(value).encode(), status=status, headers=_JSON)


def gzip_bomb(size: int) -> Handler:
    """``size`` zero bytes, gzipped to a few kilobytes; Content-Length is the small one."""
    return answer(gzip.compress(b"\0" * size), headers={"Content-Encoding": "gzip", **_JSON})


def not_found(h: BaseHTTPRequestHandler) -> None:
    answer(b"{}", status=404, headers=_JSON)(h)


def trickle(
    closing: threading.Event, started: threading.Event | None = None, *, every: float = 0.2
) -> Handler:
    """Headers at once, then one byte of a JSON body every ``every`` seconds, never ending.

    The wait between bytes is the server misbehaving, not the test synchronising; it stops
    when the server closes. ``started`` is set once the first byte is out.
    """

    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        try:
            h.wfile.write(b"[")
            h.wfile.flush()
            if started is not None:
                started.set()
            while not closing.wait(every):
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:
            return  # the client gave up, as it should

    return handle


_JSON = {"Content-Type": "application/json"}
