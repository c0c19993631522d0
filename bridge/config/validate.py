"""Validating each section of the configuration, collecting every problem with its fix.

``SectionLoader`` checks one section at a time against its model (``bridge.config.settings``),
with the environment's values placed over the file's, and turns pydantic's errors into
problem lines: the key path, what is wrong, what to do about it. Input values are never
quoted (they may be secrets); secrets found are registered for log scrubbing, and one
written in the file rather than the environment is warned about.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import structlog
from pydantic import BaseModel, SecretStr, ValidationError

from bridge.config.agency import agency_keys, with_agency
from bridge.config.env import (
    EnvOverrides,
    EnvValue,
    coerce,
    env_var,
    is_secret,
    listing,
    secret_env_var,
)
from bridge.config.settings import (
    DEFAULT_STATE_FILE,
    AgencySettings,
    ConnectorTypes,
    LedgerSettings,
    RouteSettings,
)
from bridge.connector import Connector, ConnectorSettings, connector_class
from bridge.errors import ConfigError
from bridge.ledger.db import sqlite_beside
from bridge.privacy import register_secret

Table = dict[str, Any]

_M = TypeVar("_M", bound=BaseModel)

_log = structlog.get_logger("bridge.config")


class SectionLoader:
    """Validates each section, collecting every problem instead of stopping at the first."""

    def __init__(
        self,
        path: Path,
        overrides: EnvOverrides,
        types: ConnectorTypes | None,
        problems: list[str],
    ) -> None:
        self.base = path.parent
        self.overrides = overrides
        self.types = types
        self.problems = problems

    def section(self, model: type[_M], where: str, table: Table) -> _M | None:
        """``table`` overridden from the environment and validated as ``model``."""
        env = self.overrides.get(where)
        data = dict(table)
        data.update({key: coerce(v.raw, model.model_fields.get(key)) for key, v in env.items()})
        if where.startswith("connectors.") and isinstance(data.get("mapping"), str):
            data["mapping"] = self._mapping_path(where, data["mapping"])
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(_describe(exc, where, model, env))
            return None

    def ledger(self, table: Table) -> LedgerSettings:
        settings = self.section(LedgerSettings, "ledger", table) or LedgerSettings()
        password = urlsplit(settings.url).password
        if password:
            register_secret(password)
            if "url" in table and urlsplit(str(table["url"])).password:
                _warn_secret_in_file("ledger.url", env_var("ledger", "url"))
        # Relative to the file, never to the working directory: the same configuration
        # run from another folder must find the same ledger, not start an empty one.
        state_file = self.base / Path(settings.state_file or DEFAULT_STATE_FILE).expanduser()
        url = sqlite_beside(settings.url, self.base)
        return settings.model_copy(update={"url": url, "state_file": str(state_file)})

    def connectors(
        self, tables: dict[str, Table], agency: AgencySettings | None = None
    ) -> dict[str, ConnectorSettings]:
        all_tables = dict(tables)
        for name in self.overrides.new_connectors:
            all_tables.setdefault(name, {})
        loaded = {}
        for name, table in all_tables.items():
            settings = self._connector(name, table, agency)
            if settings is not None:
                loaded[name] = settings
        return loaded

    def _connector(
        self, name: str, table: Table, agency: AgencySettings | None
    ) -> ConnectorSettings | None:
        where = f"connectors.{name}"
        env_type = self.overrides.get(where).get("type")
        type_name = env_type.raw if env_type is not None else table.get("type")
        if not isinstance(type_name, str):
            self.problems.append(
                f'{where}.type is missing: add `type = "..."` to [{where}] '
                f'(for example "lapor", "rest" or "memory")'
            )
            return None
        cls = self._connector_class(where, type_name)
        if cls is None:
            return None
        model: type[ConnectorSettings] = cls.Settings
        table, disagree = with_agency(where, table, agency_keys(model), agency)
        self.problems.extend(disagree)
        settings = self.section(model, where, table)
        if settings is not None:
            self._note_secrets(where, name, settings, table)
        return settings

    def _connector_class(self, where: str, type_name: str) -> type[Connector] | None:
        if self.types is None:
            try:
                return connector_class(type_name)
            except ConfigError as exc:
                self.problems.extend(f"{where}.type: {problem}" for problem in exc.problems)
                return None
        if type_name in self.types:
            return self.types[type_name]
        known = listing(self.types)
        unknown = f"unknown connector type {type_name!r}"
        self.problems.append(f"{where}.type: {unknown}; known types: {known}")
        return None

    def _note_secrets(
        self, where: str, name: str, settings: ConnectorSettings, table: Table
    ) -> None:
        for key, info in type(settings).model_fields.items():
            value = getattr(settings, key)
            if not is_secret(info.annotation) or not isinstance(value, SecretStr):
                continue
            register_secret(value.get_secret_value())
            if table.get(key) is not None:
                _warn_secret_in_file(f"{where}.{key}", secret_env_var("connectors", name, key))

    def _mapping_path(self, where: str, value: str) -> str:
        path = self.base / Path(value).expanduser()
        if not path.is_file():
            self.problems.append(
                f"{where}.mapping: no mapping file at {path} (relative paths are read "
                f"from the configuration file's folder, {self.base})"
            )
        return str(path)

    def routes(
        self, tables: list[tuple[str, Table]], connectors: set[str]
    ) -> tuple[RouteSettings, ...]:
        loaded = []
        for name, table in tables:
            where = f"routes.{name}"
            route = self.section(RouteSettings, where, {"name": name, **table})
            if route is not None:
                loaded.append(route)
        self._check_routes(loaded, connectors)
        return tuple(loaded)

    def _check_routes(self, routes: list[RouteSettings], connectors: set[str]) -> None:
        seen: set[str] = set()
        for route in routes:
            where = f"routes.{route.name}"
            if route.name in seen:
                self.problems.append(
                    f"{where}: two routes have this name; give each [[routes]] its own `name`"
                )
            seen.add(route.name)
            for end in ("source", "target"):
                connector = getattr(route, end)
                if connector not in connectors:
                    self.problems.append(
                        f"{where}.{end}: no connector named {connector!r}; "
                        f"defined connectors: {listing(connectors)}"
                    )
            if route.source == route.target:
                self.problems.append(f"{where}: source and target are the same connector")


def _warn_secret_in_file(key_path: str, env_var: str) -> None:
    _log.warning("config.secret_in_file", key_path=key_path, use_instead=env_var)


def _describe(
    exc: ValidationError, where: str, model: type[BaseModel], env: Mapping[str, EnvValue]
) -> list[str]:
    """Pydantic's errors as problem lines: key path, what is wrong, how to fix it.

    Input values are never quoted: they may be secrets.
    """
    lines = []
    for error in exc.errors(include_url=False, include_input=False):
        key = ".".join(str(part) for part in error["loc"])
        path = f"{where}.{key}" if key else where
        top = str(error["loc"][0]) if error["loc"] else ""
        origin = f" (from the environment variable {env[top].var})" if top in env else ""
        if error["type"] == "missing" and len(error["loc"]) == 1:
            lines.append(_missing(where, top, model))
        elif error["type"] == "extra_forbidden":
            lines.append(unknown_key(path, top, list(model.model_fields)) + origin)
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{path}: {message}{origin}")
    return lines


def _missing(where: str, key: str, model: type[BaseModel]) -> str:
    variable = env_var(*where.split(".", 1), key)
    if is_secret(model.model_fields[key].annotation):
        return (
            f"{where}.{key} is missing: set the environment variable {variable} "
            f"(keep secrets out of the TOML file)"
        )
    return f"{where}.{key} is missing: add `{key} = ...` to [{where}] or set {variable}"


def unknown_key(path: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}"
    return f"{path}: unknown key; {hint}"
