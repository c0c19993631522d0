"""Fake connector types and a valid configuration text, so these tests need no real connector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from bridge.config import BridgeConfig
from bridge.connector import Connector, ConnectorSettings, NativeRecord

LAPOR_KEY = "lapor-key-5f0c2b"
LAPOR_GUID = "0b6f3c1e-guid-7d2a"


class _FakeConnector(Connector):
    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        yield from ()

    def get(self, record_id: str) -> NativeRecord | None:
        return None


class LaporLikeSettings(ConnectorSettings):
    base_url: str
    auth_header: str = "auth"
    api_key: SecretStr
    api_guid: SecretStr
    page_size: int = 50
    verify_tls: bool = True


class LaporLike(_FakeConnector):
    type = "lapor-like"
    Settings = LaporLikeSettings


class RestLikeSettings(ConnectorSettings):
    base_url: str
    auth: str = "none"
    username: SecretStr | None = None
    password: SecretStr | None = None


class RestLike(_FakeConnector):
    type = "rest-like"
    Settings = RestLikeSettings


class MemoryLike(_FakeConnector):
    type = "memory"


TYPES: dict[str, type[Connector]] = {
    "lapor-like": LaporLike,
    "rest-like": RestLike,
    "memory": MemoryLike,
}

VALID = """\
[ledger]
url = "sqlite:///bridge.db"

[daemon]
log_format = "json"
log_level = "INFO"

[connectors.lapor]
type = "lapor-like"
base_url = "https://lapor.example/3.0.0"
mapping = "mappings/lapor.toml"

[connectors.sidumas]
type = "rest-like"
base_url = "https://sidumas.example/api/"
auth = "login"
mapping = "mappings/sidumas.toml"

[[routes]]
source = "sidumas"
target = "lapor"
interval_seconds = 60
"""

SECRETS = {
    "BRIDGE_CONNECTORS__LAPOR__API_KEY": LAPOR_KEY,
    "BRIDGE_CONNECTORS__LAPOR__API_GUID": LAPOR_GUID,
}

Loader = Callable[..., BridgeConfig]


def setting(config: BridgeConfig, connector: str, key: str) -> Any:
    """One connector key, whatever the connector's settings class (keeps tests free of casts)."""
    return getattr(config.connectors[connector], key)
