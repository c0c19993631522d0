"""Per-remote HTTP metrics: durations, answers by code class and retries, over loopback HTTP."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from prometheus_client import CollectorRegistry, generate_latest

from bridge.daemon.prom import HttpCounters
from bridge.http import HttpSettings, RetrySettings, make_client, send, watch_requests
from tests.rawserver import Handler, answer, serve


def _limited_then_ok() -> Handler:
    calls = {"n": 0}
    refuse = answer(b"slow down", status=429, headers={"Retry-After": "0"})
    ok = answer(b'{"ok": true}', headers={"Content-Type": "application/json"})

    def handle(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        (refuse if calls["n"] == 1 else ok)(h)

    return handle


def test_a_429_then_an_answer_counts_one_retry_two_answers_and_two_durations() -> None:
    """The daemon's counters hear each answer (429, 2xx) and the retry between, per host."""
    registry = CollectorRegistry()
    counters = HttpCounters(registry)
    stop = watch_requests(counters)
    retry = RetrySettings(attempts=3, wait_initial=0, wait_max=0, jitter=0)
    try:
        with (
            serve({"/api": _limited_then_ok()}) as server,
            make_client(server.url, headers={}, http=HttpSettings()) as client,
        ):
            send(client, lambda c: c.get("/api"), retry, idempotent=True, context="test")
    finally:
        stop()
    text = generate_latest(registry).decode()

    assert 'lapor_bridge_http_responses_total{code="429",remote="127.0.0.1"} 1.0' in text
    assert 'lapor_bridge_http_responses_total{code="2xx",remote="127.0.0.1"} 1.0' in text
    assert 'lapor_bridge_http_retries_total{remote="127.0.0.1"} 1.0' in text
    assert 'lapor_bridge_http_request_duration_seconds_count{remote="127.0.0.1"} 2.0' in text
    assert "/api" not in text  # hosts only: no path, no query, no id


def test_no_watcher_is_called_once_stopped() -> None:
    """After the daemon stops watching, requests are no longer counted."""
    registry = CollectorRegistry()
    counters = HttpCounters(registry)
    watch_requests(counters)()
    ok = answer(b"{}", headers={"Content-Type": "application/json"})
    with (
        serve({"/api": ok}) as server,
        make_client(server.url, headers={}, http=HttpSettings()) as c,
    ):
        c.get("/api")
    assert "remote=" not in generate_latest(registry).decode()
