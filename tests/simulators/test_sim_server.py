"""Running simulators: the background-thread server and the CLI's app builder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.testing import simulators
from bridge.testing.simulators.lapor import create_app as create_lapor
from bridge.testing.simulators.server import RunningServer, serve_in_thread

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]


def test_serve_in_thread_listens_on_a_free_port_until_stopped() -> None:
    """The server answers at .url on the port it picked, and stop() ends its thread."""
    server = serve_in_thread(create_lapor())
    try:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/_sim/stats").status_code == 200
    finally:
        server.stop()
    assert not server.thread.is_alive()


def test_serve_in_thread_is_a_context_manager() -> None:
    """Leaving the `with` block stops the server."""
    with serve_in_thread(create_lapor()) as server:
        assert server.thread.is_alive()
    assert not server.thread.is_alive()


@pytest.mark.parametrize(
    ("kind", "records"), [("lapor", "/_sim/complaints"), ("sidumas", "/_sim/pengaduan")]
)
def test_cli_apps_are_seeded_once_per_state_file(
    kind: str, records: str, tmp_path: Path, serve: Serve, client: MakeClient
) -> None:
    """build_app seeds a new state file; a second build over the same file adds nothing."""
    path = str(tmp_path / f"{kind}.json")
    first = client(serve(simulators.build_app(kind, path, seed=3)).url)
    assert len(first.get(records).json()) == 3
    second = client(serve(simulators.build_app(kind, path, seed=3)).url)
    assert len(second.get(records).json()) == 3


def test_unknown_simulator_kind_is_refused_with_the_choices() -> None:
    """Asking for a simulator that does not exist names the ones that do."""
    with pytest.raises(ValueError, match="lapor, sidumas, open311"):
        simulators.build_app("hub")


def test_cli_open311_is_seeded_in_memory_only(serve: Serve, client: MakeClient) -> None:
    """build_app serves a seeded open311 simulator, and refuses a state file it cannot keep."""
    seeded = client(serve(simulators.build_app("open311", seed=3)).url)
    assert len(seeded.get("/_sim/requests").json()) == 3
    with pytest.raises(ValueError, match="memory only"):
        simulators.build_app("open311", "open311.json")
