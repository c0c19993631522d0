"""The one HTTP policy: client factory, status → error mapping, retries and downloads."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from bridge import http
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    RateLimited,
    RemoteRejected,
    RetryableError,
)

NO_WAIT = http.RetrySettings(attempts=3, wait_initial=0, wait_max=0)
BASE = "https://api.example.go.id/v1/"


def client(base: str = BASE, **headers: str) -> httpx.Client:
    return http.make_client(base, headers=headers, http=http.HttpSettings())


def get(path: str) -> http.RequestFn:
    return lambda c: c.get(path)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/", "http://127.9.9.9/", "http://localhost:1/", "http://[::1]:80/"],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    """Plain http is fine for loopback addresses (simulators, local tunnels)."""
    client(url).close()


def test_plain_http_to_other_hosts_is_refused_with_the_fix() -> None:
    """Plain http to a non-loopback host raises ConfigError naming allow_insecure_http."""
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        client("http://sidumas.badungkab.go.id/api/")


def test_plain_http_to_other_hosts_is_allowed_when_configured() -> None:
    """allow_insecure_http lets an operator accept plain http on a trusted network."""
    settings = http.HttpSettings(allow_insecure_http=True)
    http.make_client("http://10.0.0.5/api/", headers={}, http=settings).close()


@respx.mock
def test_client_sends_accept_and_user_agent() -> None:
    """Every request says Accept: application/json and who we are."""
    route = respx.get(BASE + "ping").respond(json={})
    with client() as c:
        http.send(c, get("ping"), NO_WAIT, idempotent=True, context="t")
    request = route.calls.last.request
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("lapor-bridge/")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, AuthError),
        (403, AuthError),
        (408, RateLimited),
        (425, RateLimited),
        (429, RateLimited),
        (500, RetryableError),
        (502, RetryableError),
        (503, RetryableError),
        (504, RetryableError),
        (400, RemoteRejected),
        (404, RemoteRejected),
        (409, RemoteRejected),
        (413, RemoteRejected),
        (422, RemoteRejected),
        (302, ProtocolError),
        (501, ProtocolError),
    ],
)
def test_status_codes_map_to_errors_by_recovery(status: int, error: type[Exception]) -> None:
    """Each status maps to the error class the engine recovers by."""
    response = httpx.Response(status, json={"message": "x"})
    with pytest.raises(error):
        http.raise_for_status(response, context="t")


def test_2xx_passes() -> None:
    """A 2xx answer raises nothing."""
    http.raise_for_status(httpx.Response(201), context="t")


def test_auth_error_names_the_secret_but_never_its_value() -> None:
    """A 401 names which secrets to check, never their values or the request's headers."""
    request = httpx.Request("GET", BASE, headers={"auth": "Bearer s3cret"})
    response = httpx.Response(401, json={"message": "token s3cret invalid"}, request=request)
    with pytest.raises(AuthError) as caught:
        http.raise_for_status(response, context="lapor: list", auth_hint="secret api_key")
    assert "api_key" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_rejection_carries_the_server_message_truncated() -> None:
    """A 422 carries the envelope's message, cut to 300 characters, and the status code."""
    response = httpx.Response(422, json={"message": "The title field is required." + "x" * 400})
    with pytest.raises(RemoteRejected) as caught:
        http.raise_for_status(response, context="t")
    assert caught.value.status_code == 422
    assert "The title field is required." in caught.value.reason
    assert len(caught.value.reason) < 300 + 40


def test_rejection_never_echoes_a_body_without_message() -> None:
    """A 4xx body without a message key is not copied into the error (it may hold personal data)."""
    response = httpx.Response(400, json={"nik": "5103010101010001"})
    with pytest.raises(RemoteRejected) as caught:
        http.raise_for_status(response, context="t")
    assert "5103010101010001" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("0", 0.0), ("-3", 0.0), ("Wed, 01 May 2024 00:00:30 GMT", 30.0), ("soon", None)],
)
def test_retry_after_reads_seconds_or_http_dates(value: str, seconds: float | None) -> None:
    """Retry-After is read as delta seconds or an HTTP date; nonsense gives None."""
    now = datetime(2024, 5, 1, tzinfo=UTC)
    assert http.parse_retry_after(value, now=now) == seconds


def test_rate_limited_carries_retry_after() -> None:
    """A 429 carries the parsed Retry-After."""
    response = httpx.Response(429, headers={"Retry-After": "12"})
    with pytest.raises(RateLimited) as caught:
        http.raise_for_status(response, context="t")
    assert caught.value.retry_after == 12.0


def test_json_body_refuses_non_json() -> None:
    """An HTML error page where JSON was expected is a ProtocolError."""
    response = httpx.Response(
        200, text="<html>gateway</html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(ProtocolError, match="text/html"):
        http.json_body(response, context="t")


@respx.mock
def test_429_with_retry_after_is_retried_then_succeeds() -> None:
    """A 429 is retried (Retry-After capped by wait_max) and the later success returned."""
    route = respx.get(BASE + "x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200)]
    )
    with client() as c:
        response = http.send(c, get("x"), NO_WAIT, idempotent=True, context="t")
    assert response.status_code == 200
    assert route.call_count == 2


@respx.mock
def test_5xx_is_retried_up_to_the_attempt_limit() -> None:
    """A server that keeps failing is tried `attempts` times, then the last error is raised."""
    route = respx.get(BASE + "x").respond(503)
    with client() as c, pytest.raises(RetryableError, match="503"):
        http.send(c, get("x"), NO_WAIT, idempotent=True, context="t")
    assert route.call_count == 3


@respx.mock
def test_transport_errors_become_retryable_and_are_retried() -> None:
    """A connection failure is a RetryableError and is retried like a 5xx."""
    route = respx.get(BASE + "x").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    with client() as c:
        assert http.send(c, get("x"), NO_WAIT, idempotent=True, context="t").status_code == 200
    assert route.call_count == 3


@respx.mock
def test_non_idempotent_requests_are_never_retried() -> None:
    """A create that fails with a 5xx or a lost connection is tried exactly once."""
    route = respx.post(BASE + "create").mock(
        side_effect=[httpx.Response(502), httpx.ReadTimeout("lost")]
    )
    with client() as c:
        for _ in range(2):
            with pytest.raises(RetryableError):
                http.send(c, lambda c: c.post("create"), NO_WAIT, idempotent=False, context="t")
    assert route.call_count == 2


@respx.mock
def test_4xx_is_not_retried() -> None:
    """A refusal is final: no retry."""
    route = respx.get(BASE + "x").respond(422, json={"message": "bad"})
    with client() as c, pytest.raises(RemoteRejected):
        http.send(c, get("x"), NO_WAIT, idempotent=True, context="t")
    assert route.call_count == 1


def test_wait_honours_retry_after_within_wait_max() -> None:
    """The wait is at least Retry-After, at most wait_max."""
    settings = http.RetrySettings(wait_initial=0.1, wait_max=5, jitter=0)
    wait = http.Backoff(settings)

    def state_after(error: Exception) -> object:
        class State:
            attempt_number = 1
            seconds_since_start = 0.0
            outcome = type("O", (), {"exception": staticmethod(lambda: error)})()

        return State()

    assert wait(state_after(RateLimited("x", retry_after=3))) == 3  # type: ignore[arg-type]
    assert wait(state_after(RateLimited("x", retry_after=30))) == 5  # type: ignore[arg-type]
    assert wait(state_after(RetryableError("x"))) == pytest.approx(0.1)  # type: ignore[arg-type]


@respx.mock
def test_retries_are_logged_with_context_and_no_secrets() -> None:
    """Each retry logs http.retry with the call's context and error class, never headers."""
    respx.get(BASE + "x").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    with client(auth="Bearer s3cret") as c, capture_logs() as logs:
        http.send(c, get("x"), NO_WAIT, idempotent=True, context="lapor: list")
    assert [e["event"] for e in logs] == ["http.retry"]
    assert logs[0]["context"] == "lapor: list"
    assert logs[0]["error"] == "RetryableError"
    assert "s3cret" not in repr(logs)


class FakeTime:
    """A monotonic clock that only moves when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_rate_limiter_spaces_requests_at_the_configured_rate() -> None:
    """At 4 requests per second, five back-to-back requests start 0.25 s apart."""
    fake = FakeTime()
    limiter = http.RateLimiter(4, clock=fake.clock, sleep=fake.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    spacing = 0.25 / http.client.RATE_MARGIN  # a little under the rate, for jitter on the way
    assert waits == pytest.approx([0, spacing, spacing, spacing, spacing])
    assert fake.now == pytest.approx(100 + 4 * spacing)


def test_rate_limiter_does_not_wait_after_a_pause() -> None:
    """Idle time is not banked: after a pause the next request goes at once, then spaced."""
    fake = FakeTime()
    limiter = http.RateLimiter(2, clock=fake.clock, sleep=fake.sleep)
    limiter.acquire()
    fake.now += 10
    assert limiter.acquire() == 0
    assert limiter.acquire() == pytest.approx(0.5 / http.client.RATE_MARGIN)


def test_rate_limiter_refuses_a_non_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        http.RateLimiter(0)


@respx.mock
def test_client_with_a_rate_limit_passes_every_request_through_the_limiter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """make_client installs the limiter as a request hook, so retries are limited too."""
    acquired: list[float] = []
    monkeypatch.setattr(http.RateLimiter, "acquire", lambda self: acquired.append(self.interval))
    route = respx.get(BASE + "x").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={})]
    )
    settings = http.HttpSettings(max_requests_per_second=10)
    with http.make_client(BASE, headers={}, http=settings) as c:
        http.send(c, get("x"), NO_WAIT, idempotent=True, context="t")
    assert route.call_count == 2
    assert acquired == pytest.approx([0.1 / http.client.RATE_MARGIN] * 2)


def test_connector_settings_carry_the_rate_limit_and_retry_budget() -> None:
    """The per-connector keys reach the HTTP and retry settings."""

    class Settings(http.HttpConnectorSettings):
        pass

    settings = Settings(type="x", max_requests_per_second=5, retry_max_seconds=12)
    assert settings.http_settings().max_requests_per_second == 5
    assert settings.retry_settings().max_total == 12


@respx.mock
def test_a_create_refused_with_429_is_sent_again_after_retry_after() -> None:
    """429 says the request was not processed: the create may be sent again, once allowed."""
    route = respx.post(BASE + "create").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(201, json={"id": 7}),
        ]
    )
    with client() as c:
        response = http.send(c, lambda c: c.post("create"), NO_WAIT, idempotent=False, context="t")
    assert response.json() == {"id": 7}
    assert route.call_count == 2
