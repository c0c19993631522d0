"""The sql connector's database: one engine, short reads, single-statement writes.

``SqlDatabase`` opens no connection until first used, holds no transaction open between
statements, and turns every driver error into a bridge error (``sql_errors.db_errors``)
that names the connector, the operation and the tables and columns ``[transport]``
names, never a value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Engine, Table, cast, create_engine, func, insert, select
from sqlalchemy.engine import URL

from bridge.errors import ConfigError

from .sql_errors import Attempt, Write, db_errors
from .sql_schema import TransportSpec

CONNECT_TIMEOUT_SECONDS = 10  # an unreachable server fails a cycle quickly, then retries

# Each write: its SQL verb, the mapping key that turns it off, and where the mapping gives
# a column a fixed value (named in errors: a missing grant, a NOT NULL column not written).
_WRITES = {
    "create": ("INSERT", "`create = false` in [transport]", "[constants]"),
    "add_followup": (
        "INSERT",
        "`writable = false` in [transport.responses]",
        "[followups.constants]",
    ),
    "set_status": ("UPDATE", "`write_status = false` in [transport]", "[status_write.constants]"),
}


class SqlDatabase:
    """The database behind connector ``name``; ``source`` (its mapping file) is named in errors."""

    def __init__(self, name: str, url: URL, spec: TransportSpec, source: str) -> None:
        self.name = name
        self.url = url
        self.source = source
        self._names = _named_in(spec)
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use."""
        if self._engine is None:
            self._engine = create_engine(
                self.url,
                pool_pre_ping=True,  # a server restart between cycles is not an error
                connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
            )
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def now(self, updated: Any) -> datetime:
        """The database's current time, typed like the column ``updated`` (never our clock)."""
        aware = bool(getattr(updated.type, "timezone", False))
        if self.url.get_backend_name() == "postgresql":
            # CURRENT_TIMESTAMP is timestamptz there; a naive column wants session-local time.
            now: Any = cast(func.current_timestamp(), DateTime(timezone=aware))
        else:
            now = func.now(6)  # microseconds: a plain NOW() would hold back up to 1 s more
        db_now = self.fetch(select(now), "pull")[0][0]
        if not isinstance(db_now, datetime):
            raise ConfigError([f"{self.source}: the database clock did not answer a time"])
        return db_now

    def fetch(self, query: Any, operation: str) -> list[Any]:
        # One short read per page: no transaction is held open while the engine works.
        with db_errors(self.reading(operation)), self.engine().connect() as conn:
            return list(conn.execute(query).fetchall())

    def insert(self, table: Table, id_name: str, values: dict[str, Any], operation: str) -> str:
        statement = insert(table).values(values)
        engine = self.engine()
        returning = engine.dialect.insert_returning
        if returning:
            statement = statement.returning(table.c[id_name])
        with db_errors(self.writing(operation, table, values)), engine.begin() as conn:
            result = conn.execute(statement)
            new_id = result.scalar_one() if returning else values.get(id_name, result.lastrowid)
        return str(new_id)

    def reading(self, operation: str) -> Attempt:
        tables, columns = self._names
        return Attempt(self.name, operation, self.url.username, tables, columns, source=self.source)

    def writing(self, operation: str, table: Table, values: dict[str, Any]) -> Attempt:
        verb, switch, constants = _WRITES[operation]
        write = Write(verb, table.name, list(table.c.keys()), set(values), switch, constants)
        return Attempt(self.name, operation, self.url.username, write=write, source=self.source)


def _named_in(spec: TransportSpec) -> tuple[list[str], list[str]]:
    """The tables and columns ``[transport]`` names: an error names the one it is about."""
    tables = [spec.table, *(j.table for j in spec.joins)]
    columns = [spec.id_column, spec.updated_at_column, spec.ref_column]
    for join in spec.joins:
        columns += [*join.on.keys(), *join.on.values()]
    if spec.responses is not None:
        tables.append(spec.responses.table)
        responses = spec.responses
        columns += [responses.foreign_key, responses.id_column, responses.order_by]
    return tables, [c for c in dict.fromkeys(columns) if c is not None]
