"""Configuration → wired routes: connectors, mapping files and the ledger put together."""

from __future__ import annotations

from datetime import timedelta

from bridge.config import BridgeConfig, RouteSettings, build_connector
from bridge.connector import Connector
from bridge.engine import ForwardRule, Route
from bridge.errors import ConfigError
from bridge.ledger import Ledger
from bridge.mapping import Mapping, load_mapping


def build_routes(config: BridgeConfig, ledger: Ledger, *, only: str | None = None) -> list[Route]:
    """Every enabled route of ``config`` (or just ``only``), ready to run.

    Connectors shared by several routes are built once.
    """
    selected = [config.route(only)] if only else [r for r in config.routes if r.enabled]
    connectors: dict[str, Connector] = {}
    mappings: dict[str, Mapping] = {}
    routes = []
    for settings in selected:
        for name in (settings.source, settings.target):
            if name not in connectors:
                connectors[name] = build_connector(config, name)
                mappings[name] = _mapping_for(config, name)
        routes.append(
            Route(
                name=settings.name,
                source=connectors[settings.source],
                target=connectors[settings.target],
                source_mapping=mappings[settings.source],
                target_mapping=mappings[settings.target],
                ledger=ledger,
                lookback=timedelta(seconds=settings.lookback_seconds),
                repoll_budget=settings.repoll_budget,
                linked_retry=timedelta(seconds=settings.linked_retry_seconds),
                forward=_forward_rule(settings),
                pause_policy=config.daemon.pause_policy(),
            )
        )
    return routes


def close_routes(routes: list[Route]) -> None:
    closed: set[int] = set()
    for route in routes:
        for connector in (route.source, route.target):
            if id(connector) not in closed:
                connector.close()
                closed.add(id(connector))


def _forward_rule(settings: RouteSettings) -> ForwardRule | None:
    if settings.forward_on_status is None or settings.forward_to is None:
        return None
    return ForwardRule(settings.forward_on_status, settings.forward_to, settings.forward_reason)


def _mapping_for(config: BridgeConfig, name: str) -> Mapping:
    path = config.connector_settings(name).mapping
    if not path:
        raise ConfigError(
            [f"connectors.{name}.mapping is missing: name the mapping file for this system"]
        )
    return load_mapping(path)
