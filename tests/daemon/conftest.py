"""A running status service over a ledger of linked complaints, reached over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bridge.config import BridgeConfig, DaemonSettings, LedgerSettings, RouteSettings
from bridge.daemon import StatusService
from bridge.ledger import Ledger
from tests.daemon.ledger_fill import ROUTE, fill


@dataclass
class Served:
    service: StatusService
    ledger: Ledger
    url: str

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.url + path, **kwargs)  # type: ignore[arg-type]


def settings_for(
    tmp_path: Path, *, user: str | None = None, password: str | None = None
) -> BridgeConfig:
    """A configuration naming one route, with the HTTP server on a free loopback port."""
    daemon = DaemonSettings(
        http="127.0.0.1:0",
        http_user=user,
        http_password=SecretStr(password) if password else None,
        time_zone="Asia/Jakarta",
    )
    return BridgeConfig(
        ledger=LedgerSettings(url=f"sqlite:///{tmp_path / 'bridge.db'}"),
        routes=(RouteSettings(name=ROUTE, source="sidumas", target="lapor"),),
        daemon=daemon,
    )


def serve(settings: BridgeConfig, ledger: Ledger) -> Iterator[Served]:
    service = StatusService(settings, ledger)
    service.start()
    try:
        yield Served(service, ledger, f"http://127.0.0.1:{service.server.port}")
    finally:
        service.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'bridge.db'}") as opened:
        fill(opened, 60, datetime.now(UTC))
        yield opened


@pytest.fixture
def served(tmp_path: Path, ledger: Ledger) -> Iterator[Served]:
    yield from serve(settings_for(tmp_path), ledger)
