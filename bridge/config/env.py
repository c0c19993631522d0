"""Environment overrides: ``BRIDGE_<SECTION>__<NAME>__<KEY>`` variables placed on the
configuration's tables, and their text read as the setting's type.

``bridge.config.load`` reads the file and validates; this module only says which table and key
each variable sets (or why it sets nothing) and how its text becomes a value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import SecretStr
from pydantic.fields import FieldInfo

ENV_PREFIX = "BRIDGE_"


@dataclass(frozen=True)
class EnvValue:
    var: str
    raw: str


@dataclass
class EnvOverrides:
    """Environment values by table path ("ledger", "connectors.lapor", "routes.x") and key."""

    tables: dict[str, dict[str, EnvValue]] = field(default_factory=dict)
    new_connectors: set[str] = field(default_factory=set)

    def get(self, table_path: str) -> dict[str, EnvValue]:
        return self.tables.get(table_path, {})

    @classmethod
    def collect(
        cls,
        env: Mapping[str, str],
        connector_names: Iterable[str],
        route_names: Iterable[str],
        problems: list[str],
    ) -> EnvOverrides:
        """Every ``BRIDGE_…__…`` variable, placed; a variable that sets nothing is a problem."""
        declared = list(connector_names)
        overrides = cls()
        matched = {name: value for name, value in env.items() if _is_override(name)}
        # Every variable of a connector defined only in the environment must find it,
        # whatever the order the variables come in: find the ``__TYPE`` ones first.
        for parts in filter(None, map(_split_var, matched)):
            is_type = parts[0] == "connectors" and parts[2:] == ["type"]
            if is_type and not _match(parts[1], declared):
                overrides.new_connectors.add(parts[1])
        connectors = [*declared, *overrides.new_connectors]
        routes = list(dict.fromkeys(route_names))
        for var in sorted(matched):
            target = _override_target(var, connectors, routes, problems)
            if target is not None:
                table_path, key = target
                overrides.tables.setdefault(table_path, {})[key] = EnvValue(var, matched[var])
        return overrides


def _is_override(var: str) -> bool:
    return var.upper().startswith(ENV_PREFIX) and "__" in var


def _split_var(var: str) -> list[str] | None:
    parts = var[len(ENV_PREFIX) :].lower().split("__")
    return parts if all(parts) else None


def _override_target(
    var: str, connectors: list[str], routes: list[str], problems: list[str]
) -> tuple[str, str] | None:
    """The (table path, key) that ``var`` sets, or None after recording why it sets nothing."""
    parts = _split_var(var)
    if parts is None:
        problems.append(f"environment variable {var}: empty name part; {_ENV_FORM}")
        return None
    section, *rest = parts
    if section in ("ledger", "daemon") and len(rest) == 1:
        return section, rest[0]
    names = {"connectors": connectors, "routes": routes}.get(section)
    if names is None or len(rest) != 2:
        problems.append(f"environment variable {var}: not a setting; {_ENV_FORM}")
        return None
    found = _match(rest[0], names)
    if len(found) == 1:
        return f"{section}.{found[0]}", rest[1]
    what = "connector" if section == "connectors" else "route"
    if not found:
        fix = f"defined {section}: {listing(names)}"
        if section == "connectors":
            fix += f"; to define a connector from the environment set {env_var(*parts[:2])}__TYPE"
        problems.append(f"environment variable {var}: no {what} named {rest[0]!r}; {fix}")
    else:
        problems.append(f"environment variable {var}: matches several {section}: {listing(found)}")
    return None


_ENV_FORM = (
    "use BRIDGE_LEDGER__<KEY>, BRIDGE_DAEMON__<KEY>, BRIDGE_CONNECTORS__<NAME>__<KEY> "
    "or BRIDGE_ROUTES__<ROUTE NAME>__<KEY>"
)


def _match(env_name: str, names: Iterable[str]) -> list[str]:
    """The names an environment variable's part stands for (case and - vs _ ignored)."""
    wanted = _normal(env_name)
    return [name for name in names if _normal(name) == wanted]


def _normal(name: str) -> str:
    return name.lower().replace("-", "_")


def coerce(raw: str, info: FieldInfo | None) -> Any:
    """An environment value as the field wants it.

    Text fields keep the text (a numeric password stays a string); other fields take
    it as a TOML value when it is one (``true``, ``300``, ``[1, 2]``), else as text.
    """
    # A line break would let one variable smuggle in further TOML keys.
    if "\n" in raw or (info is not None and _accepts_text(info.annotation)):
        return raw
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


def _accepts_text(annotation: object) -> bool:
    return any(arg in (str, SecretStr, Path) for arg in _union_members(annotation))


def is_secret(annotation: object) -> bool:
    return SecretStr in _union_members(annotation)


def _union_members(annotation: object) -> tuple[object, ...]:
    """``X | Y | None`` → ``(X, Y, NoneType)``; any other annotation → ``(annotation,)``."""
    if get_origin(annotation) in (Union, UnionType):
        return get_args(annotation)
    return (annotation,)


def env_var(*parts: str) -> str:
    return ENV_PREFIX + "__".join(_normal(part).upper() for part in parts)


def secret_env_var(section: str, name: str, key: str) -> str:
    """The environment variable that sets ``<section>.<name>.<key>``.

    ``("connectors", "lapor", "api_key")`` → ``"BRIDGE_CONNECTORS__LAPOR__API_KEY"``.
    """
    return env_var(section, name, key)


def listing(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "(none)"
