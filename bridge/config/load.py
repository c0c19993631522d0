"""Reading the configuration: the file found and read, split into its sections,
overridden from the environment and validated, every problem reported at once.

``load_config`` is the one way in. Where the file is: the path given, else
``$BRIDGE_CONFIG``, else ``./bridge.toml``. The sections are validated by
``bridge.config.validate``; the environment variables are placed by ``bridge.config.env``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from bridge.config.env import EnvOverrides
from bridge.config.settings import (
    AgencySettings,
    BridgeConfig,
    ConnectorTypes,
    DaemonSettings,
)
from bridge.config.validate import SectionLoader, Table, unknown_key
from bridge.errors import ConfigError

CONFIG_ENV_VAR = "BRIDGE_CONFIG"
DEFAULT_CONFIG_FILE = "bridge.toml"


def load_config(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    types: ConnectorTypes | None = None,
) -> BridgeConfig:
    """Read, override from the environment, and validate the whole configuration.

    ``path`` defaults to ``$BRIDGE_CONFIG``, else ``./bridge.toml``; ``environ`` to
    ``os.environ``; ``types`` to the installed connector types (tests pass fakes).
    Raises ``ConfigError`` listing every problem found.
    """
    env = os.environ if environ is None else environ
    config_path, how = _config_path(path, env)
    problems: list[str] = []
    sections = _split_sections(_read_toml(config_path, how), problems)
    route_names = [name for name, _ in sections.routes]
    overrides = EnvOverrides.collect(env, sections.connectors, route_names, problems)
    loader = SectionLoader(config_path, overrides, types, problems)
    # Sections in the order of the example file, so the problems are listed in that order.
    ledger = loader.ledger(sections.ledger)
    daemon = loader.section(DaemonSettings, "daemon", sections.daemon)
    agency = loader.section(AgencySettings, "agency", sections.agency)
    connectors = loader.connectors(sections.connectors, agency)
    declared = set(sections.connectors) | overrides.new_connectors
    routes = loader.routes(sections.routes, declared)
    if problems:
        raise ConfigError(problems, source=str(config_path))
    return BridgeConfig(
        ledger=ledger,
        connectors=MappingProxyType(connectors),
        routes=routes,
        daemon=daemon or DaemonSettings(),
        path=config_path,
        agency=agency or AgencySettings(),
    )


# --- reading the file --------------------------------------------------------------------


def _config_path(path: str | Path | None, env: Mapping[str, str]) -> tuple[Path, str]:
    """The file to read, and how it was chosen (for the message if it is missing)."""
    if path is not None:
        chosen, how = path, "the path given"
    elif env.get(CONFIG_ENV_VAR):
        chosen, how = env[CONFIG_ENV_VAR], f"from ${CONFIG_ENV_VAR}"
    else:
        chosen, how = DEFAULT_CONFIG_FILE, f"the default, as ${CONFIG_ENV_VAR} is not set"
    return Path(chosen).expanduser().absolute(), how


def _read_toml(path: Path, how: str) -> Table:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        problem = (
            f"no configuration file at {path} ({how}): create one with "
            f"`cp config.example.toml {DEFAULT_CONFIG_FILE}` and edit it, or point "
            f"{CONFIG_ENV_VAR} at yours"
        )
    except tomllib.TOMLDecodeError as exc:
        problem = f"not valid TOML: {exc}; see config.example.toml for the syntax"
    except OSError as exc:
        problem = f"cannot read the configuration file: {exc.strerror}"
    raise ConfigError([problem], source=str(path))


@dataclass
class _Sections:
    """The file's tables, shape-checked but not yet validated."""

    ledger: Table = field(default_factory=dict)
    daemon: Table = field(default_factory=dict)
    agency: Table = field(default_factory=dict)
    connectors: dict[str, Table] = field(default_factory=dict)
    routes: list[tuple[str, Table]] = field(default_factory=list)  # (name, table)


def _split_sections(document: Table, problems: list[str]) -> _Sections:
    sections = _Sections()
    for key, value in document.items():
        if key in ("ledger", "daemon", "agency"):
            setattr(sections, key, _table(value, key, f"[{key}]", problems))
        elif key == "connectors":
            tables = _table(value, key, "[connectors.<name>]", problems)
            sections.connectors = _connector_tables(tables, problems)
        elif key == "routes":
            sections.routes = _route_tables(value, problems)
        else:
            known = ["ledger", "daemon", "agency", "connectors", "routes"]
            problems.append(unknown_key(key, key, known))
    return sections


def _table(value: object, where: str, syntax: str, problems: list[str]) -> Table:
    if isinstance(value, dict):
        return value
    problems.append(f"{where}: must be a table, written {syntax}")
    return {}  # checked as if empty, so that the other sections' problems are still found


def _connector_tables(tables: Table, problems: list[str]) -> dict[str, Table]:
    connectors = {}
    for name, table in tables.items():
        where = f"connectors.{name}"
        if isinstance(table, dict):
            connectors[name] = table
        else:
            problems.append(f"{where}: must be a table, written [{where}]")
    return connectors


def _route_tables(value: object, problems: list[str]) -> list[tuple[str, Table]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        problems.append("routes: must be an array of tables, each written [[routes]]")
        return []
    routes = []
    for index, table in enumerate(value):
        name = table.get("name")
        if name is None and isinstance(table.get("source"), str):
            name = f"{table['source']}-to-{table.get('target')}"
        routes.append((str(name) if name is not None else f"#{index + 1}", table))
    return routes
