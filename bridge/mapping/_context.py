"""What compiling one mapping file shares: where problems go, the zone, formats, value maps."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from bridge.mapping._agency import AgencyValues, resolved
from bridge.mapping._paths import NativePath, path_problem
from bridge.mapping._schema import Kind
from bridge.mapping._values import is_int_text
from bridge.model import Status

STATUSES = ", ".join(Status)
CODE = re.compile(r"[a-z0-9_]+")


def quoted(key: str) -> str:
    """A canonical name as it is written as a TOML key (dotted names need quotes)."""
    return f'"{key}"' if "." in key else key


class Context:
    """Collects every problem of one file, each naming the file, the key and the fix."""

    def __init__(self, source: str, agency: AgencyValues | None = None) -> None:
        self.source = source
        self.agency = agency
        self.problems: list[str] = []
        self.zone = ZoneInfo("UTC")
        self.formats: tuple[str, ...] = ()
        self.maps: dict[str, dict[str, Any]] = {}
        self.used_maps: set[str] = set()

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: {where} {message}")

    def unknown_keys(self, where: str, table: dict[str, Any], known: Iterable[str]) -> None:
        allowed = tuple(known)
        for key in table:
            if key not in allowed:
                self.problem(where, f"key {key!r} is unknown; use one of: {', '.join(allowed)}")

    def agency_value(self, where: str, key: str, value: Any) -> Any:
        """``value``, or the ``[agency]`` value it refers to (``UNRESOLVED``, reported)."""
        found, problem = resolved(value, self.agency)
        if problem is not None:
            self.problem(where, f"{quoted(key)} {problem}")
        return found

    def table(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        """``parent[key]`` as a table ({} when absent), reporting a value of another type."""
        value = parent.get(key)
        if value is not None and not isinstance(value, dict):
            self.problem(where, f"must be a table, not {type(value).__name__}")
        return value if isinstance(value, dict) else {}

    def path(
        self, where: str, key: str, value: object, *, write: bool = False
    ) -> NativePath | None:
        if (why := path_problem(value)) is not None:
            self.problem(where, f"{key} {why}")
            return None
        path = NativePath(str(value))
        if write and path.indexes_lists:
            self.problem(
                where, f"{key} {path.text!r} indexes a list; write paths may only name keys"
            )
            return None
        return path

    # ---- value maps ----------------------------------------------------------------------

    def load_value_maps(self, tables: dict[str, Any]) -> None:
        for name, table in tables.items():
            where = f"[values.{name}]"
            if not isinstance(table, dict) or not table:
                self.problem(
                    where,
                    'must be a non-empty table of native code = canonical value, e.g. "0" = "new"',
                )
                continue
            bad = [code for code, value in table.items() if not isinstance(value, str | bool)]
            for code in bad:
                self.problem(
                    where, f"{code!r} must map to a string (or to true/false for yes/no fields)"
                )
            self.maps[name] = {code: value for code, value in table.items() if code not in bad}

    def map_values(
        self, where: str, key: str, ref: object, kind: Kind, name: str, native: str
    ) -> dict[str, Any] | None:
        """The value map a field references, checked against the field's kind and native type."""
        if not isinstance(ref, str):
            self.problem(where, f'{key} must name a [values] table, e.g. {key} = "category"')
            return None
        if ref not in self.maps:
            known = ", ".join(sorted(self.maps)) or "none"
            self.problem(
                where,
                f"{key} {ref!r} is not defined; add a [values.{ref}] table (defined: {known})",
            )
            return None
        self.used_maps.add(ref)
        values = self.maps[ref]
        for code, value in values.items():
            self._check_map_value(f"[values.{ref}]", code, value, kind, name)
            if native == "int" and not is_int_text(code):
                self.problem(
                    f"[values.{ref}]",
                    f"code {code!r} is not an integer but {where} has type 'int'; "
                    'use type = "string"',
                )
        return values

    def _check_map_value(self, where: str, code: str, value: Any, kind: Kind, name: str) -> None:
        if kind is Kind.STATUS and value not in tuple(Status):
            self.problem(where, f"{code!r} = {value!r} is not a status; use one of: {STATUSES}")
        elif kind is Kind.BOOL and not isinstance(value, bool):
            self.problem(
                where, f"{code!r} = {value!r} must be true or false for yes/no field {name!r}"
            )
        elif kind is not Kind.BOOL and not isinstance(value, str):
            self.problem(where, f"{code!r} = {value!r} must be a string for field {name!r}")
        elif name == "category" and isinstance(value, str) and not CODE.fullmatch(value):
            self.problem(
                where,
                f"{code!r} = {value!r}: canonical categories are lower-case codes "
                "such as 'infrastruktur'",
            )

    def report_unused_maps(self) -> None:
        for name in self.maps:
            if name not in self.used_maps:
                self.problem(
                    f"[values.{name}]",
                    f'is not used by any field; reference it with map = "{name}" or remove it',
                )
