"""One connector, many requests in flight: one rate for all of them, and a 429 pauses them all."""

from __future__ import annotations

import httpx
import pytest
import respx
from pydantic import ValidationError

from bridge import http
from bridge.http.client import DEFAULT_PAUSE, MAX_PAUSE, RATE_MARGIN
from bridge.http.connector import DEFAULT_CONCURRENCY
from tests.connectors.test_http_policy import FakeTime

BASE = "https://api.example.go.id/v1/"


def too_many(retry_after: str | None) -> httpx.Response:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return httpx.Response(429, headers=headers)


def test_a_429_holds_every_request_of_the_connector_for_its_retry_after() -> None:
    """After a 429 with Retry-After: 3, the next request of any thread waits 3 s."""
    fake = FakeTime()
    limiter = http.RateLimiter(None, clock=fake.clock, sleep=fake.sleep)
    assert limiter.acquire() == 0
    limiter.on_response(too_many("3"))
    assert limiter.acquire() == pytest.approx(3)
    assert limiter.acquire() == 0  # the pause is over; without a rate nothing is spaced


def test_a_429_pause_and_the_rate_add_up_in_order() -> None:
    """With a rate of 2/s, requests after a pause resume spaced at 0.5 s (and a margin)."""
    fake = FakeTime()
    limiter = http.RateLimiter(2, clock=fake.clock, sleep=fake.sleep)
    limiter.acquire()
    limiter.on_response(too_many("1"))
    waits = [limiter.acquire() for _ in range(3)]
    spacing = 0.5 / RATE_MARGIN
    assert waits == pytest.approx([1, spacing, spacing])


class LateWake:
    """A clock whose first sleep overshoots by 0.4 s: a thread that wakes late (one GIL)."""

    def __init__(self) -> None:
        self.now, self.late = 0.0, 0.4

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.late
        self.late = 0.0


def test_a_request_that_leaves_late_does_not_bunch_up_with_the_next_ones() -> None:
    """Rate 2/s, the second request wakes 0.4 s late: never three leave within one second."""
    late = LateWake()
    limiter = http.RateLimiter(2, clock=late.clock, sleep=late.sleep)
    left = []
    for _ in range(4):
        limiter.acquire()
        left.append(late.now)
    # Spaced by slots alone they would leave at 0, 0.93, 1.05 and 1.58.
    assert all(third - first >= 1.0 for first, third in zip(left, left[2:], strict=False))


@pytest.mark.parametrize(
    ("retry_after", "pause"), [(None, DEFAULT_PAUSE), ("3600", MAX_PAUSE), ("0", 0.0)]
)
def test_a_429_pause_has_a_default_and_a_ceiling(retry_after: str | None, pause: float) -> None:
    """No Retry-After: a short default pause; a huge one is capped (the retry gives up)."""
    fake = FakeTime()
    limiter = http.RateLimiter(None, clock=fake.clock, sleep=fake.sleep)
    limiter.on_response(too_many(retry_after))
    assert limiter.acquire() == pytest.approx(pause)


def test_other_answers_never_pause() -> None:
    """A 503 or a 200 leaves the other requests alone."""
    fake = FakeTime()
    limiter = http.RateLimiter(None, clock=fake.clock, sleep=fake.sleep)
    limiter.on_response(httpx.Response(503, headers={"Retry-After": "9"}))
    limiter.on_response(httpx.Response(200))
    assert limiter.acquire() == 0


@respx.mock
def test_the_client_pauses_itself_on_a_429(monkeypatch: pytest.MonkeyPatch) -> None:
    """make_client wires every answer to the limiter, also without a configured rate."""
    paused: list[float] = []
    monkeypatch.setattr(http.RateLimiter, "pause", lambda self, seconds: paused.append(seconds))
    respx.get(BASE + "x").mock(side_effect=[too_many("2"), httpx.Response(200, json={})])
    retry = http.RetrySettings(attempts=2, wait_initial=0, wait_max=0)
    with http.make_client(BASE, headers={}, http=http.HttpSettings()) as c:
        http.send(c, lambda c: c.get("x"), retry, idempotent=True, context="t")
    assert paused == [2.0]


def test_max_concurrency_has_the_measured_default_and_is_bounded() -> None:
    """max_concurrency: the measured default, and a clear refusal outside 1..64."""
    settings = http.HttpApiSettings(type="x", base_url=BASE)
    assert settings.max_concurrency == DEFAULT_CONCURRENCY
    assert http.HttpApiSettings(type="x", base_url=BASE, max_concurrency=1).max_concurrency == 1
    with pytest.raises(ValidationError, match="max_concurrency"):
        http.HttpApiSettings(type="x", base_url=BASE, max_concurrency=0)
