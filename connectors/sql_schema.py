"""The ``[transport]`` table of a SQL mapping file, and its check against the live schema.

Two steps, because they fail for different reasons and at different times:

1. ``parse_transport`` validates the *shape* when the connector is built (no database
   needed): known keys only, every name a plain identifier. Nothing the user writes is
   ever pasted into SQL; identifiers become SQLAlchemy ``Table``/``Column`` objects and
   values are always bound parameters.
2. ``reflect_layout`` checks every named table and column against the database at first
   use and returns the reflected ``Layout`` the queries are built from.

Each raises one error listing every problem with its key and the fix: ``parse_transport``
a ``ConfigError`` (the file is wrong, found at start-up), ``reflect_layout`` a
``SchemaMismatch`` (a RouteError: found inside a cycle, it stops that route with its
reason in ``bridge status``, not the whole bridge).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Column, Connection, MetaData, Table
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.sql.expression import ColumnElement, FromClause

from bridge.errors import ConfigError, SchemaMismatch

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _identifier(value: str) -> str:
    # fullmatch, not `^...$`: `$` would also accept a trailing newline.
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(
            "is not a plain SQL name (a letter or _, then letters, digits or _, at most 64); "
            "write the bare table or column name: no quotes, spaces, dots or SQL"
        )
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JoinSpec(_Strict):
    """A one-to-one table whose columns are merged into the record under ``prefix``."""

    table: Identifier
    on: dict[Identifier, Identifier] = Field(min_length=1)
    prefix: Identifier


class ResponsesSpec(_Strict):
    """A one-to-many table of follow-ups, read into a list under ``key``."""

    table: Identifier
    foreign_key: Identifier
    id_column: Identifier
    order_by: Identifier | None = None
    key: Identifier
    writable: bool = False


class TransportSpec(_Strict):
    """The whole ``[transport]`` table of a SQL mapping file."""

    table: Identifier
    id_column: Identifier
    updated_at_column: Identifier | None = None
    ref_column: Identifier | None = None
    create: bool = False
    write_status: bool = False
    joins: list[JoinSpec] = Field(default_factory=list)
    responses: ResponsesSpec | None = None


def parse_transport(raw: Mapping[str, Any] | None, source: str) -> TransportSpec:
    """The validated ``[transport]`` table; every problem is reported at once."""
    if not raw:
        raise ConfigError(
            [
                f"{source}: has no [transport] table; a sql connector needs at least "
                '`table = "..."` and `id_column = "..."` there'
            ],
            source=source,
        )
    try:
        return TransportSpec.model_validate(_plain(raw))
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{source}: [transport].{where}: {message}")
        raise ConfigError(problems, source=source) from None


def _plain(value: Any) -> Any:
    """Read-only mappings and tuples from the mapping layer as plain dicts and lists."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# --- reflection -----------------------------------------------------------------------


@dataclass(frozen=True)
class BoundJoin:
    prefix: str
    table: FromClause
    on: tuple[tuple[ColumnElement[Any], ColumnElement[Any]], ...]


@dataclass(frozen=True)
class BoundResponses:
    key: str
    table: Table
    foreign_key: Column[Any]
    id_column: Column[Any]
    order_by: Column[Any] | None
    writable: bool


@dataclass(frozen=True)
class Layout:
    """The reflected tables and columns every query is built from."""

    table: Table
    id_column: Column[Any]
    updated_at: Column[Any] | None
    ref: Column[Any] | None
    joins: tuple[BoundJoin, ...]
    responses: BoundResponses | None


class _Reflector:
    """Reflects each table once and collects every missing name as a problem."""

    def __init__(self, conn: Connection, source: str) -> None:
        self._conn = conn
        self._source = source
        self._metadata = MetaData()
        self.problems: list[str] = []

    def table(self, key: str, name: str) -> Table | None:
        try:
            return Table(name, self._metadata, autoload_with=self._conn)
        except NoSuchTableError:
            self.problems.append(
                f"{self._source}: [transport].{key}: table {name!r} does not exist in the "
                f"database, or this database user cannot see it; check the name (it is "
                f"case-sensitive) or grant SELECT on it"
            )
            return None

    def column(self, table: Table | None, key: str, name: str) -> Column[Any] | None:
        if table is None:
            return None
        if name in table.c:
            return table.c[name]
        known = ", ".join(table.c.keys())
        self.problems.append(
            f"{self._source}: [transport].{key}: table {table.name!r} has no column "
            f"{name!r}; its columns are: {known}"
        )
        return None

    def optional(self, table: Table | None, key: str, name: str | None) -> Column[Any] | None:
        return None if name is None else self.column(table, key, name)


def reflect_layout(conn: Connection, spec: TransportSpec, source: str) -> Layout:
    """Check every table and column ``spec`` names against the database; build the Layout."""
    r = _Reflector(conn, source)
    table = r.table("table", spec.table)
    id_column = r.column(table, "id_column", spec.id_column)
    updated_at = r.optional(table, "updated_at_column", spec.updated_at_column)
    ref = r.optional(table, "ref_column", spec.ref_column)
    joins = tuple(_join(r, table, spec, index) for index in range(len(spec.joins)))
    responses = _responses(r, spec.responses)
    if table is not None:
        _check_keys(r, table, spec, source)
    if r.problems or table is None or id_column is None:
        raise SchemaMismatch(*r.problems)
    return Layout(
        table=table,
        id_column=id_column,
        updated_at=updated_at,
        ref=ref,
        joins=tuple(j for j in joins if j is not None),
        responses=responses,
    )


def _join(r: _Reflector, main: Table | None, spec: TransportSpec, index: int) -> BoundJoin | None:
    join = spec.joins[index]
    key = f"joins.{index}"
    reflected = r.table(f"{key}.table", join.table)
    pairs = []
    for ours, theirs in join.on.items():
        left = r.column(main, f"{key}.on", ours)
        right = r.column(reflected, f"{key}.on", theirs)
        if left is not None and right is not None:
            pairs.append((left.name, right.name))
    if main is None or reflected is None or len(pairs) != len(join.on):
        return None
    # An alias per join, so the same table may be joined twice (two petugas columns).
    aliased = reflected.alias(f"j{index}")
    on = tuple((main.c[a], aliased.c[b]) for a, b in pairs)
    return BoundJoin(prefix=join.prefix, table=aliased, on=on)


def _responses(r: _Reflector, spec: ResponsesSpec | None) -> BoundResponses | None:
    if spec is None:
        return None
    table = r.table("responses.table", spec.table)
    foreign_key = r.column(table, "responses.foreign_key", spec.foreign_key)
    id_column = r.column(table, "responses.id_column", spec.id_column)
    order_by = r.optional(table, "responses.order_by", spec.order_by)
    if table is None or foreign_key is None or id_column is None:
        return None
    return BoundResponses(spec.key, table, foreign_key, id_column, order_by, spec.writable)


def _check_keys(r: _Reflector, table: Table, spec: TransportSpec, source: str) -> None:
    """Join prefixes and the responses key must not hide a column or each other."""
    seen = set(table.c.keys())
    named = [(f"joins.{i}.prefix", j.prefix) for i, j in enumerate(spec.joins)]
    if spec.responses is not None:
        named.append(("responses.key", spec.responses.key))
    for key, name in named:
        if name in seen:
            r.problems.append(
                f"{source}: [transport].{key}: {name!r} is already a column of {table.name!r} "
                f"or another prefix; choose another name"
            )
        seen.add(name)
