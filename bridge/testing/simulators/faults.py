"""Fault injection shared by the simulators: slow, failing, rate-limited, hanging, dropped answers.

Every simulator owns one `Faults`, switched by `POST /_sim/faults` (the keys given are applied,
the others keep their value), shown by `GET /_sim/faults` (the switches, and under `injected`
how many faults of each kind were injected) and put back to its defaults by `/_sim/reset`.
`FaultMiddleware` applies it to every API request, never to the `/_sim/` control routes:

- `latency_ms` plus up to `latency_jitter_ms`: wait that long before handling the request;
- `error_rate`: answer `error_status` at once, handling nothing;
- `read_error_rate`: the same for reads only (GET: listings, searches, details), so that a
  test can refuse a listing (`error_status=404`) while logins and writes still work;
- `rate_limit_rate`: answer 429 with `Retry-After: retry_after` at once, handling nothing;
- `timeout_rate`: handle the request, then hold its answer `timeout_seconds`;
- `drop_after_commit_rate`: handle a write, then send the status line and headers and close the
  connection, so the client sees a transport error although the change was committed.

The dice are a `random.Random(seed)` owned here; setting `seed` restarts them, so the same
switches and the same requests inject the same faults.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.testing.simulators._http import BadBody, read_object

Render = Callable[[int, str], Response]  # (status, message) → the refusal in the app's envelope
IsWrite = Callable[[str, str], bool]  # (method, path) → does the request change state?
KINDS = ("error", "timeout", "rate_limit", "drop", "latency")
_CONTROL_PREFIXES = ("/_sim/", "/docs", "/redoc", "/openapi.json")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Switches:
    """The fault switches and their defaults: every fault off."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    read_error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 60.0  # above the bridge's default 30 s read timeout
    rate_limit_rate: float = 0.0
    retry_after: int = 1
    drop_after_commit_rate: float = 0.0
    seed: int = 0


class _Range(NamedTuple):
    kind: type[int] | type[float]
    low: float | None
    high: float | None


_RANGES: dict[str, _Range] = {
    "latency_ms": _Range(float, 0, None),
    "latency_jitter_ms": _Range(float, 0, None),
    "error_rate": _Range(float, 0, 1),
    "error_status": _Range(int, 400, 599),
    "read_error_rate": _Range(float, 0, 1),
    "timeout_rate": _Range(float, 0, 1),
    "timeout_seconds": _Range(float, 0, None),
    "rate_limit_rate": _Range(float, 0, 1),
    "retry_after": _Range(int, 0, None),
    "drop_after_commit_rate": _Range(float, 0, 1),
    "seed": _Range(int, None, None),
}
SWITCH_NAMES = tuple(_RANGES)


class FaultError(BadBody):
    """Unknown fault switches or bad values; `problems` names each key with its fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _problem(key: str, value: Any) -> str | None:
    spec = _RANGES.get(key)
    if spec is None:
        return f"unknown fault switch {key!r}: choose from {', '.join(SWITCH_NAMES)}"
    numeric = (int,) if spec.kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, numeric) or not math.isfinite(value):
        return f"{key} must be {'an integer' if spec.kind is int else 'a number'}, not {value!r}"
    too_low = spec.low is not None and value < spec.low
    if too_low or (spec.high is not None and value > spec.high):
        bounds = f"between {spec.low:g} and {spec.high:g}" if spec.high is not None else ""
        return f"{key} must be {bounds or f'at least {spec.low:g}'}, not {value!r}"
    return None


def check_switches(settings: Mapping[str, Any]) -> dict[str, Any]:
    """`settings` as typed switch values; any unknown key or bad value raises FaultError."""
    problems = [p for key, value in settings.items() if (p := _problem(key, value))]
    if problems:
        raise FaultError(problems)
    return {key: _RANGES[key].kind(value) for key, value in settings.items()}


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # not a number: check_switches names the key


def parse_spec(text: str) -> dict[str, Any]:
    """`error_rate=0.1,seed=7` (the CLI's `--faults`) as the dict `POST /_sim/faults` takes."""
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"{item!r} is not key=value (e.g. error_rate=0.1)")
        else:
            raw[key.strip()] = _number(value.strip())
    try:
        checked = check_switches(raw)
    except FaultError as exc:
        problems += exc.problems
    if problems:
        raise FaultError(problems)
    return checked


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request, drawn before it is handled."""

    delay: float = 0.0  # seconds to wait before handling it
    refuse: int | None = None  # answer this status at once, handling nothing
    hang: float = 0.0  # seconds to hold the answer after handling it
    drop: bool = False  # cut the connection after the headers, if the write went through


class Faults:
    """The switches, the seeded dice and the counters; runtime only, never persisted."""

    switches: Switches
    injected: dict[str, int]
    requests: int

    def __init__(self) -> None:
        self.rng = random.Random()
        self.reset()

    def configure(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the keys given (others keep their value) and return the current report."""
        checked = check_switches(settings)
        self.switches = replace(self.switches, **checked)
        if "seed" in checked:
            self.rng.seed(self.switches.seed)
        return self.report()

    def report(self) -> dict[str, Any]:
        return {**asdict(self.switches), "injected": dict(self.injected), "requests": self.requests}

    def reset(self) -> None:
        """Every switch off, the dice re-seeded, the counters at zero (also the start state)."""
        self.switches = Switches()
        self.rng.seed(self.switches.seed)
        self.injected = dict.fromkeys(KINDS, 0)
        self.requests = 0  # API requests seen: a chaos test measures progress by it

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def plan(self, write: bool, *, read: bool = False) -> FaultPlan:
        """Throw the dice for one API request (a GET is a ``read``), counting what is injected."""
        s = self.switches
        self.requests += 1
        jitter = self.rng.uniform(0, s.latency_jitter_ms) if s.latency_jitter_ms else 0.0
        delay = (s.latency_ms + jitter) / 1000
        if delay:
            self.injected["latency"] += 1
        for kind, rate, status in (
            ("error", s.error_rate, s.error_status),
            ("error", s.read_error_rate if read else 0.0, s.error_status),
            ("rate_limit", s.rate_limit_rate, 429),
        ):
            if self._roll(rate):
                self.injected[kind] += 1
                return FaultPlan(delay, refuse=status)
        hang = s.timeout_seconds if self._roll(s.timeout_rate) else 0.0
        if hang:
            self.injected["timeout"] += 1
        return FaultPlan(delay, hang=hang, drop=write and self._roll(s.drop_after_commit_rate))


def changes_state(method: str, path: str) -> bool:
    """The default write test: every POST, PUT, PATCH and DELETE."""
    return method in _WRITE_METHODS


class FaultMiddleware:
    """Pure ASGI middleware: applies `faults` to every request outside the control routes."""

    def __init__(
        self, app: ASGIApp, faults: Faults, render: Render, is_write: IsWrite = changes_state
    ) -> None:
        self.app = app
        self.faults = faults
        self.render = render
        self.is_write = is_write

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_CONTROL_PREFIXES):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        plan = self.faults.plan(self.is_write(method, scope["path"]), read=method == "GET")
        if plan.delay:
            await asyncio.sleep(plan.delay)  # simulated latency, not synchronisation
        if plan.refuse is not None:
            await self._refusal(plan.refuse)(scope, receive, send)
        elif plan.hang or plan.drop:
            await self._handle_then_fault(scope, receive, send, plan)
        else:
            await self.app(scope, receive, send)

    def _refusal(self, status: int) -> Response:
        if status != 429:
            return self.render(status, "Simulated failure")
        retry_after = self.faults.switches.retry_after
        response = self.render(429, f"Too many requests; retry after {retry_after} s")
        response.headers["Retry-After"] = str(retry_after)
        return response

    async def _handle_then_fault(
        self, scope: Scope, receive: Receive, send: Send, plan: FaultPlan
    ) -> None:
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)  # the change, if any, is committed here
        if plan.hang:
            await asyncio.sleep(plan.hang)
        if plan.drop and answer and answer[0]["status"] < 400:
            self.faults.injected["drop"] += 1
            # Headers without the body, then return: uvicorn sees an unfinished response, logs
            # one line and closes the connection; the client gets a transport error.
            await send(answer[0])
            return
        for message in answer:
            await send(message)


def fault_routes(faults: Faults) -> APIRouter:
    """`GET /_sim/faults` shows the switches and counters; `POST` changes the keys given."""
    sim = APIRouter(prefix="/_sim")

    @sim.get("/faults")
    async def show() -> dict[str, Any]:
        return faults.report()

    @sim.post("/faults")
    async def switch(request: Request) -> dict[str, Any]:
        return faults.configure(await read_object(request))

    return sim


def install_faults(
    app: FastAPI, faults: Faults, render: Render, is_write: IsWrite = changes_state
) -> None:
    """Apply `faults` to `app`'s API routes and serve its `/_sim/faults` switches."""
    app.state.faults = faults
    app.add_middleware(FaultMiddleware, faults=faults, render=render, is_write=is_write)
    app.include_router(fault_routes(faults))
