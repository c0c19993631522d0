"""Fixtures for the simulator tests: real HTTP servers on free loopback ports, and fixed data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bridge.testing.simulators._common import ManualClock
from bridge.testing.simulators.corpus import CorpusEntry
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from bridge.testing.simulators.sidumas import DEMO_EMAIL, DEMO_PASSWORD

LAPOR_HEADERS = {"auth": "Bearer demo-key", "token": "demo-guid"}
NEW_USER = {
    "title": "Jalan berlubang",
    "content": "Jalan di depan banjar berlubang besar.",
    "disposition_id": 1001,
    "category_id": 3,
    "is_new_user_slider": True,
    "nameUser": "Ni Luh Suartini",
    "phoneUser": "081234567890",
    "emailUser": "suartini@example.com",
}
SIDUMAS_CREDENTIALS = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}


def sidumas_login(client: httpx.Client) -> httpx.Client:
    """Log ``client`` in to the SIDUMAS simulator with the demo account; return it."""
    response = client.post("/api/login", json=SIDUMAS_CREDENTIALS)
    assert response.status_code == 200, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['data']['token']}"
    return client


@pytest.fixture
def clock() -> ManualClock:
    """Starts at 2026-03-02 08:00 WIB."""
    return ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
def corpus() -> list[CorpusEntry]:
    """Sixty small, distinct complaints: enough for several pages."""
    return [
        CorpusEntry(
            str(1_700_000 + i), f"Keluhan nomor {i}", f"Isi keluhan {i} mohon ditindaklanjuti"
        )
        for i in range(60)
    ]


class AppSwitch:
    """An ASGI app that forwards to whichever simulator the current test plugged in.

    One real server then serves the whole session, which saves a server start and stop (about
    0.2 s) per test. The simulators have no lifespan handlers, so answering it here loses nothing.
    """

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[tuple[AppSwitch, RunningServer]]:
    switch = AppSwitch()
    with serve_in_thread(switch) as server:
        yield switch, server


@pytest.fixture
def serve(
    _shared_server: tuple[AppSwitch, RunningServer],
) -> Iterator[Callable[[Any], RunningServer]]:
    """Serve an app over real HTTP; a second call in the same test replaces the first app."""
    switch, server = _shared_server

    def plug(app: Any) -> RunningServer:
        switch.app = app
        return server

    yield plug
    switch.app = None


@pytest.fixture
def client() -> Iterator[Callable[..., httpx.Client]]:
    """httpx clients that are closed at teardown (unclosed sockets would fail the run)."""
    clients: list[httpx.Client] = []

    def make(base_url: str, **kwargs: Any) -> httpx.Client:
        clients.append(httpx.Client(base_url=base_url, timeout=30, **kwargs))
        return clients[-1]

    yield make
    for made in clients:
        made.close()
