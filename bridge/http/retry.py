"""Sending one request with retries: ``send`` and the injected ``RetrySettings``.

``send`` runs one request through tenacity. A create is retried only after a
408/425/429, which say it was not processed: one whose answer was lost may have
happened, and only the engine (ledger intent + ``find_by_ref``) may decide to create
again. Every answer is streamed and read under ``Bounds`` (``bridge.http.body``): at
most ``max_response_bytes`` decoded bytes, within ``request_deadline`` seconds, given
up when the bridge is stopping; JSON nested too deep is refused before parsing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import structlog
import tenacity

from bridge.errors import ProtocolError, RateLimited, RetryableError
from bridge.http.body import BoundedClient, Bounds
from bridge.http.client import HttpSettings, RequestEvent, tell_watchers
from bridge.http.status import raise_for_status

log = structlog.get_logger(__name__)


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


RequestFn = Callable[[BoundedClient], httpx.Response]


def send(
    client: httpx.Client,
    request_fn: RequestFn,
    retry: RetrySettings,
    *,
    idempotent: bool,
    context: str,
    auth_hint: str = "the connector's secrets",
    bounds: Bounds | None = None,
) -> httpx.Response:
    """Send ``request_fn(client)`` and return its 2xx response, or raise the mapped error.

    Idempotent requests are retried on ``RetryableError``. Non-idempotent ones (creates)
    only on ``RateLimited``, whose status says the server did not process them. The
    answer is read under ``bounds`` (default: ``HttpSettings()``'s).
    """
    bounded = BoundedClient(client, bounds or HttpSettings().bounds(), context=context)

    def attempt() -> httpx.Response:
        try:
            response = request_fn(bounded)
        except httpx.TransportError as exc:
            # The class name says enough (ConnectError, ReadTimeout); str(exc) may hold a URL.
            raise RetryableError(f"{context}: {type(exc).__name__}") from exc
        except httpx.RequestError as exc:  # a body that cannot be decoded, a bad URL
            raise ProtocolError(f"{context}: {type(exc).__name__}") from exc
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
        wait=Backoff(retry),
        before_sleep=_log_retry(context, client.base_url.host),
        reraise=True,
    )
    return retrying(attempt)


class Backoff:
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


def _log_retry(context: str, remote: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        tell_watchers(RequestEvent(remote, None, 0.0, retry=True))
        log.warning(
            "http.retry",
            context=context,
            attempt=state.attempt_number,
            wait=round(state.upcoming_sleep, 3),
            error=type(error).__name__,
        )

    return before_sleep
