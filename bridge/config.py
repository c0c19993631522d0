"""TOML file + environment → frozen, validated settings.

The file (``bridge.toml``, or ``$BRIDGE_CONFIG``) has four sections::

    [ledger]              url, state_file, retired_systems
    [daemon]              log_format, log_level
    [connectors.<name>]   type, then the keys of that type's ``Settings`` class
    [[routes]]            name, source, target, interval_seconds, jitter_seconds, enabled

Every key can be set or overridden from the environment as
``BRIDGE_<SECTION>__<NAME>__<KEY>`` (``BRIDGE_LEDGER__URL``,
``BRIDGE_CONNECTORS__LAPOR__API_KEY``, ``BRIDGE_ROUTES__SIDUMAS_TO_LAPOR__ENABLED``),
which is how secrets are meant to arrive: they never have to be written in the file.
(Placing those variables is ``bridge.config_env``'s job.)

Everything is checked before anything runs, and every problem is reported at once in
one ``ConfigError``, each with its key path and what to do about it (vdirsyncer's
lesson: fixing a configuration one error per start is maddening).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import structlog
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bridge.config_env import (
    EnvOverrides,
    EnvValue,
    coerce,
    env_var,
    is_secret,
    listing,
)
from bridge.connector import Connector, ConnectorSettings, connector_class
from bridge.errors import ConfigError
from bridge.health import PausePolicy
from bridge.ledger.db import sqlite_beside
from bridge.log import LOG_LEVELS
from bridge.model import Status
from bridge.privacy import register_secret, scrub_text

CONFIG_ENV_VAR = "BRIDGE_CONFIG"
DEFAULT_CONFIG_FILE = "bridge.toml"
DEFAULT_STATE_FILE = ".lapor-bridge-state.json"

Table = dict[str, Any]
ConnectorTypes = Mapping[str, type[Connector]]

_M = TypeVar("_M", bound=BaseModel)

_log = structlog.get_logger("bridge.config")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerSettings(_Section):
    """Where the ledger lives: an SQLAlchemy URL (SQLite file or PostgreSQL).

    ``load_config`` reads a relative SQLite path from the configuration file's folder
    (wherever the value came from, the file or ``BRIDGE_LEDGER__URL``), and fills in
    ``state_file``: where the bridge notes which ledger it last wrote to.
    """

    url: str = "sqlite:///bridge.db"
    state_file: str | None = None
    # Systems the ledger still remembers but no connector names any more, on purpose
    # (a door closed for good). Any other such system stops the bridge: see bridge.routes.
    retired_systems: tuple[str, ...] = ()
    # Who this bridge is, in every reference it writes into LAPOR!: unique per agency, so
    # two pemda that name their connectors alike never take each other's complaints.
    installation: str | None = None

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # A PostgreSQL URL may carry a password; a repr ends up in logs and tracebacks.
        yield "url", scrub_text(self.url)


class RouteSettings(_Section):
    """One one-way route: records flow from ``source`` to ``target`` every interval."""

    name: str
    source: str
    target: str
    interval_seconds: float = Field(default=300, gt=0)
    jitter_seconds: float = Field(default=30, ge=0)
    lookback_seconds: float = Field(default=600, ge=0)
    """How far before the stored cursor each pull starts again, so late-committed rows are seen."""
    repoll_budget: int = Field(default=100, ge=0)
    """Linked, non-final complaints re-checked per cycle at most (detail and follow-ups)."""
    linked_retry_seconds: float = Field(default=300, ge=0)
    """A follow-up or status write that failed for a transient reason is tried again after this."""
    forward_on_status: Status | None = None
    """When the source sets a complaint to this status, forward it (Bukan Wewenang) instead."""
    forward_to: str | None = None
    """The institution id complaints are forwarded to (required with forward_on_status)."""
    forward_reason: str = "Bukan wewenang instansi ini"
    max_create_attempts: int = Field(default=5, ge=1)
    """Cycles a create may stay unconfirmed (5xx, lost answer) before the record is set aside."""
    create_settle_seconds: float = Field(default=10, ge=0)
    """How long after an unconfirmed create the target is searched for it (a lagging index)."""

    @model_validator(mode="after")
    def _forward_needs_a_target(self) -> RouteSettings:
        if self.forward_on_status is not None and not self.forward_to:
            raise ValueError("forward_on_status needs forward_to: the institution id to forward to")
        return self

    enabled: bool = True


class DaemonSettings(_Section):
    """How ``bridge run`` logs, and when it pauses a failing system."""

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    metrics_file: str | None = None
    pause_after_failures: int = Field(default=3, ge=1)
    first_pause_seconds: float = Field(default=60, ge=0)
    max_pause_seconds: float = Field(default=1800, ge=0)
    lease_seconds: float = Field(default=120, ge=1)
    """How long a route stays claimed by a replica that stops renewing its lease (died, froze)."""

    def pause_policy(self) -> PausePolicy:
        return PausePolicy(
            after_failures=self.pause_after_failures,
            first_pause=timedelta(seconds=self.first_pause_seconds),
            max_pause=timedelta(seconds=self.max_pause_seconds),
        )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
        return value.lower()


@dataclass(frozen=True)
class BridgeConfig:
    """The whole validated configuration. Build it with ``load_config``."""

    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    connectors: Mapping[str, ConnectorSettings] = field(default_factory=dict)
    routes: tuple[RouteSettings, ...] = ()
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    path: Path | None = None

    @property
    def installation(self) -> str:
        """Who this bridge is (``[ledger] installation``); part of every reference it makes.

        Empty when unset: references then take their older form, which two agencies
        with alike connector names could share (see ``bridge.model.make_ref``).
        """
        return self.ledger.installation or ""

    def connector_settings(self, name: str) -> ConnectorSettings:
        """The settings of connector ``name``, or a ConfigError listing the connectors."""
        try:
            return self.connectors[name]
        except KeyError:
            known = listing(self.connectors)
            raise ConfigError(
                [f"no connector named {name!r}; defined connectors: {known}"], source=self._source
            ) from None

    def route(self, name: str) -> RouteSettings:
        """The route called ``name``, or a ConfigError listing the routes."""
        for route in self.routes:
            if route.name == name:
                return route
        known = listing(route.name for route in self.routes)
        raise ConfigError(
            [f"no route named {name!r}; defined routes: {known}"], source=self._source
        )

    @property
    def _source(self) -> str:
        return "configuration" if self.path is None else str(self.path)


def secret_env_var(section: str, name: str, key: str) -> str:
    """The environment variable that sets ``<section>.<name>.<key>``.

    ``("connectors", "lapor", "api_key")`` → ``"BRIDGE_CONNECTORS__LAPOR__API_KEY"``.
    """
    return env_var(section, name, key)


def build_connector(
    config: BridgeConfig, name: str, *, types: ConnectorTypes | None = None
) -> Connector:
    """Instantiate connector ``name`` with its validated settings."""
    settings = config.connector_settings(name)
    cls = connector_class(settings.type) if types is None else types[settings.type]
    return cls(name, settings)


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
    loader = _Loader(config_path, overrides, types, problems)
    # Sections in the order of the example file, so the problems are listed in that order.
    ledger = loader.ledger(sections.ledger)
    daemon = loader.section(DaemonSettings, "daemon", sections.daemon)
    connectors = loader.connectors(sections.connectors)
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
    connectors: dict[str, Table] = field(default_factory=dict)
    routes: list[tuple[str, Table]] = field(default_factory=list)  # (name, table)


def _split_sections(document: Table, problems: list[str]) -> _Sections:
    sections = _Sections()
    for key, value in document.items():
        if key in ("ledger", "daemon"):
            setattr(sections, key, _table(value, key, f"[{key}]", problems))
        elif key == "connectors":
            tables = _table(value, key, "[connectors.<name>]", problems)
            sections.connectors = _connector_tables(tables, problems)
        elif key == "routes":
            sections.routes = _route_tables(value, problems)
        else:
            problems.append(_unknown_key(key, key, ["ledger", "daemon", "connectors", "routes"]))
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


# --- validation ---------------------------------------------------------------------------


class _Loader:
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

    def connectors(self, tables: dict[str, Table]) -> dict[str, ConnectorSettings]:
        all_tables = dict(tables)
        for name in self.overrides.new_connectors:
            all_tables.setdefault(name, {})
        loaded = {}
        for name, table in all_tables.items():
            settings = self._connector(name, table)
            if settings is not None:
                loaded[name] = settings
        return loaded

    def _connector(self, name: str, table: Table) -> ConnectorSettings | None:
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
            lines.append(_unknown_key(path, top, list(model.model_fields)) + origin)
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


def _unknown_key(path: str, key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}"
    return f"{path}: unknown key; {hint}"
