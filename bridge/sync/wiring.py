"""Configuration → wired routes: connectors, mapping files and the ledger put together."""

from __future__ import annotations

from datetime import timedelta

import structlog

from bridge.config import BridgeConfig, RouteSettings, build_connector
from bridge.connector import Connector
from bridge.dedup import DedupRules
from bridge.errors import ConfigError
from bridge.ledger import Ledger
from bridge.mapping import Mapping, load_mapping
from bridge.sync.route import ForwardRule, Route
from bridge.sync.updates import read_only_note

log = structlog.get_logger("bridge.routes")


def build_routes(config: BridgeConfig, ledger: Ledger, *, only: str | None = None) -> list[Route]:
    """Every enabled route of ``config`` (or just ``only``), ready to run.

    Connectors shared by several routes are built once. Refuses (``ConfigError``)
    while the ledger holds records of a system no connector is named after any more.
    """
    check_systems(config, ledger)
    # All at once, before any cycle: a route new to the ledger starts from what the links
    # hold, before another route reading the same system moves them on.
    ledger.route_links.register([(r.name, r.source, r.target) for r in config.routes if r.enabled])
    selected = [config.route(only)] if only else [r for r in config.routes if r.enabled]
    connectors: dict[str, Connector] = {}
    mappings: dict[str, Mapping] = {}
    routes = []
    for settings in selected:
        for name in (settings.source, settings.target):
            if name not in connectors:
                connectors[name] = build_connector(config, name)
                mappings[name] = _mapping_for(config, name)
        route = Route(
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
            installation=config.installation,
            max_create_attempts=settings.max_create_attempts,
            settle=timedelta(seconds=settings.create_settle_seconds),
            duplicates=_duplicate_rules(settings),
            reporter_secret=_secret(ledger) if settings.duplicates.enabled else b"",
            scrub_anonymous_text=settings.privacy.scrub_anonymous_text,
            send_anonymous_location=settings.privacy.send_anonymous_location,
            reverse_routes=tuple(
                r.name
                for r in config.routes
                if r.enabled and r.source == settings.target and r.target == settings.source
            ),
        )
        # Said once here, where routes are built (once per daemon), not every cycle.
        if (note := read_only_note(route)) is not None:
            log.warning("route.target.read_only", route=route.name, note=note)
        routes.append(route)
    return routes


def check_systems(config: BridgeConfig, ledger: Ledger) -> None:
    """Stop before a renamed connector makes every one of its records look new.

    The ledger knows each system by its connector's name, and a complaint's reference
    is derived from it: under a new name, every record would be sent again.
    """
    named = set(config.connectors) | set(config.ledger.retired_systems)
    unnamed = {s: n for s, n in sorted(ledger.systems.linked().items()) if s not in named}
    problems = [
        f"the ledger holds {count} linked record(s) of system {system!r}, and no connector "
        f"has that name any more. If you renamed the connector, run `bridge ledger "
        f"rename-system {system} NEW-NAME` before starting the bridge, or every one of its "
        f"records would be sent again. If {system!r} is gone for good, add it to "
        f"[ledger] retired_systems."
        for system, count in unnamed.items()
    ]
    if problems:
        raise ConfigError(problems, source=str(config.path) if config.path else "configuration")


def close_routes(routes: list[Route]) -> None:
    closed: set[int] = set()
    for route in routes:
        for connector in (route.source, route.target):
            if id(connector) not in closed:
                connector.close()
                closed.add(id(connector))


def _duplicate_rules(settings: RouteSettings) -> DedupRules | None:
    rules = settings.duplicates
    if not rules.enabled:
        return None
    return DedupRules(
        window_days=rules.window_days,
        auto_score=rules.auto_score,
        review_score=rules.review_score,
        reporter_review_score=rules.reporter_review_score,
        exact_min_chars=rules.exact_min_chars,
        max_candidates=rules.max_candidates,
        evidence=frozenset(rules.evidence),
    )


def _secret(ledger: Ledger) -> bytes:
    """The reporter hashes' key: per ledger, so the same phone hashes apart elsewhere."""
    return ledger.identity().ledger_id.encode()


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
    return load_mapping(path, config.agency.model_dump())
