"""LAPOR!'s own faults on top of the shared ones: failing the next requests, held create responses.

Holding a create response lets a test kill the client exactly between the remote commit and the
client hearing about it (the doubling trap in TRAPS.md) without any sleeps: the test long-polls
`/_sim/wait_held`, kills the client, then calls `/_sim/release`. With
`hold_create_response_after = N` only the N-th create and later ones are held, so a test can
let a long run get half-way before it is killed, deterministically. `fail_next_requests` fails
that many authenticated API calls with `fail_status`. The shared switches are in
`faults`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from bridge.testing.simulators.faults import FaultError, Faults

# Each own switch and how its value is read (as lenient as it always was).
_OWN: dict[str, Callable[[Any], Any]] = {
    "hold_create_response": bool,
    "hold_create_response_after": lambda after: None if after is None else max(1, int(after)),
    "fail_next_requests": lambda n: max(0, int(n)),
    "fail_status": int,
}


def _own_switches(settings: Mapping[str, Any]) -> dict[str, Any]:
    own: dict[str, Any] = {}
    problems: list[str] = []
    for key in _OWN.keys() & settings.keys():
        try:
            own[key] = _OWN[key](settings[key])
        except (TypeError, ValueError):
            problems.append(f"{key} must be a number, not {settings[key]!r}")
    if problems:
        raise FaultError(problems)
    return own


class LaporFaults(Faults):
    """The shared switches plus LAPOR!'s own; runtime only, as a restarted server holds nothing."""

    hold_create_response: bool
    hold_create_response_after: int | None
    fail_next_requests: int
    fail_status: int

    def __init__(self) -> None:
        super().__init__()  # sets the switches, LAPOR!'s own too, through reset()
        self.held = 0
        self._generation = 0  # bumped by every release; a held response waits for the next bump
        self._condition: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def configure(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """Apply the keys given (others keep their value) and return the current report."""
        own = _own_switches(settings)
        super().configure({k: v for k, v in settings.items() if k not in _OWN})
        for key, value in own.items():
            setattr(self, key, value)
        return self.report()

    def report(self) -> dict[str, Any]:
        return {**super().report(), **{key: getattr(self, key) for key in _OWN}}

    def reset(self) -> None:
        """Back to the defaults; held responses are let go by `release`, not here."""
        super().reset()
        self.hold_create_response = False
        self.hold_create_response_after = None
        self.fail_next_requests = 0
        self.fail_status = 503

    def holds_create(self, number: int) -> bool:
        """True when the answer to the `number`-th create (1-based) must be held."""
        after = self.hold_create_response_after
        return self.hold_create_response or (after is not None and number >= after)

    def take_failure(self) -> bool:
        """True when this request must fail; consumes one of the `fail_next_requests`."""
        if self.fail_next_requests <= 0:
            return False
        self.fail_next_requests -= 1
        return True

    def _cond(self) -> asyncio.Condition:
        # A condition binds to the loop it is first used on; a test client may run the app on a
        # new loop, so keep one condition per running loop.
        loop = asyncio.get_running_loop()
        if self._condition is None or self._loop is not loop:
            self._condition, self._loop = asyncio.Condition(), loop
        return self._condition

    async def hold(self) -> None:
        """Wait until the next release; counted in `held` meanwhile."""
        cond = self._cond()
        async with cond:
            generation = self._generation
            self.held += 1
            cond.notify_all()
            try:
                await cond.wait_for(lambda: self._generation != generation)
            finally:
                self.held -= 1

    async def release(self) -> int:
        """Let every held response go; return how many were held."""
        cond = self._cond()
        async with cond:
            released = self.held
            self._generation += 1
            cond.notify_all()
            return released

    async def wait_held(self, timeout: float) -> int:
        """Return as soon as at least one response is held, or after `timeout` seconds."""
        cond = self._cond()
        async with cond:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cond.wait_for(lambda: self.held > 0), timeout)
            return self.held
