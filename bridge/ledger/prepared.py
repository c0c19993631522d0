"""A page's hot statements, compiled once per dialect and run as the driver's own SQL.

SQLAlchemy builds, caches by key, and binds each Core statement on every call, and
converts every parameter of every row through its type: for the hundred rows of a
page that was most of the ledger's time (``_init_compiled``, ``construct_params``,
a timestamp conversion per row). A ``Prepared`` statement is a Core statement
compiled once per dialect to the driver's text; each call hands the driver plain
tuples, in the order of ``names``, through ``exec_driver_sql`` (so events, error
wrapping and the transaction are SQLAlchemy's as before; an executemany for
several rows).

The caller gives values as the database stores them: timestamps through
``stored_time`` (done once per page, not once per row). A SQLite statement given a
``datetime`` where a timestamp goes fails loudly rather than storing another text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    CursorResult,
    Dialect,
    Insert,
    Select,
    Table,
    bindparam,
    literal_column,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter

from bridge.ledger.timestamps import UTCDateTime, sqlite_text

Row = Sequence[Any]

# Compiled positionally on both backends: tuples in, no dict per row.
_DIALECTS: dict[str, Callable[[], Dialect]] = {
    "sqlite": lambda: SQLiteDialect_pysqlite(paramstyle="qmark"),
    # SQLAlchemy's psycopg dialect is not typed; it takes the paramstyle as any dialect does.
    "postgresql": lambda: PGDialect_psycopg(paramstyle="format"),  # type: ignore[no-untyped-call]
}


def stored_time(dialect: str, value: datetime) -> Any:
    """``value`` as the ledger's timestamp columns hold it on ``dialect`` (aware UTC in).

    The very conversion of ``UTCDateTime``: rows written either way compare alike.
    """
    if value.utcoffset() is None:
        raise ValueError("the ledger stores aware timestamps only; got a naive datetime")
    return sqlite_text(value) if dialect == "sqlite" else value.astimezone(UTC)


def session_time(session: Session, value: datetime) -> Any:
    """``stored_time`` for the database ``session`` writes to."""
    return stored_time(session.get_bind().dialect.name, value)


class Prepared:
    """``build(dialect name)`` compiled once per dialect; run with rows ordered as ``names``."""

    def __init__(self, names: Sequence[str], build: Callable[[str], ClauseElement]) -> None:
        self.names = tuple(names)
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def run(self, session: Session, rows: Sequence[Row]) -> CursorResult[Any]:
        """Execute once per row (one executemany); a single row is one execute."""
        conn = session.connection()
        compiled = self._for(conn.dialect.name)
        params = compiled.params(rows)
        return conn.exec_driver_sql(compiled.sql, params[0] if len(params) == 1 else params)

    def rows(self, session: Session, params: Row) -> list[tuple[Any, ...]]:
        """The rows of a SELECT for ``params``, timestamps read as ``UTCDateTime`` reads them."""
        conn = session.connection()
        compiled = self._for(conn.dialect.name)
        rows = conn.exec_driver_sql(compiled.sql, compiled.params([params])[0]).fetchall()
        return compiled.read(rows)

    def sql(self, dialect: str) -> str:
        """The driver's text on ``dialect`` (for tests and for reading)."""
        return self._for(dialect).sql

    def _for(self, dialect: str) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            compiled = _Compiled(self.names, self._build(dialect), dialect)
            self._compiled[dialect] = compiled
        return compiled


class _Compiled:
    def __init__(self, names: tuple[str, ...], statement: ClauseElement, dialect: str) -> None:
        # An INSERT's VALUES are the columns named; other statements bind by name.
        columns = list(names) if isinstance(statement, Insert) else None
        compiler = statement.compile(
            dialect=_DIALECTS[dialect](), column_keys=columns, for_executemany=True
        )
        assert isinstance(compiler, SQLCompiler)
        order = tuple(compiler.positiontup or ())
        unknown = sorted(set(order) - set(names))
        if unknown or compiler.post_compile_params:
            raise ValueError(f"a prepared statement binds only {names}; it also binds {unknown}")
        self.sql = compiler.string
        positions = [names.index(name) for name in order]
        self._reorder = None if positions == list(range(len(names))) else itemgetter(*positions)
        self._single = len(positions) == 1
        # SQLite keeps timestamps as text: a datetime object there would be stored as
        # another text than every other row's, and compare wrongly ever after.
        self._times = (
            [
                i
                for i, name in enumerate(names)
                if isinstance(compiler.binds[name].type, UTCDateTime)
            ]
            if dialect == "sqlite"
            else []
        )

        self._reads = _readers(statement, dialect)

    def read(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        reads = self._reads
        if not reads:
            return [tuple(row) for row in rows]
        found = []
        for row in rows:
            values = list(row)
            for i, read in reads:
                values[i] = read(values[i])
            found.append(tuple(values))
        return found

    def params(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        if rows and self._times:
            first = rows[0]
            if any(isinstance(first[i], datetime) for i in self._times):
                raise TypeError("a prepared statement takes timestamps through stored_time()")
        reorder = self._reorder
        if reorder is None:
            return [tuple(row) for row in rows]
        if self._single:
            return [(reorder(row),) for row in rows]
        return [reorder(row) for row in rows]


def _readers(statement: ClauseElement, dialect: str) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, conversion) of the timestamps a SELECT reads; other columns come as they are.

    A column whose type would convert what the driver gives (other than the ledger's
    timestamps) is refused: its value would reach the caller unconverted.
    """
    if not isinstance(statement, Select):
        return []
    compiled_for = _DIALECTS[dialect]()
    reads: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(statement.selected_columns):
        kind = column.type
        processor = kind.dialect_impl(compiled_for).result_processor(compiled_for, None)
        if processor is not None and not isinstance(kind, UTCDateTime):
            raise ValueError(f"a prepared SELECT reads {column} of a converted type ({kind})")
        if processor is not None:
            reads.append((i, processor))
    return reads


def insert(dialect: str, table: Table) -> Any:
    """The dialect's ``INSERT`` (with ``on_conflict_*``) for ``table``."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def const(value: str) -> ColumnElement[Any]:
    """One of the ledger's own constants (a state, a kind) written into the statement."""
    if "'" in value:
        raise ValueError(f"not a plain constant: {value!r}")
    return literal_column(f"'{value}'")


class PreparedIn:
    """A statement over an IN list, compiled once per dialect and length of the list.

    ``build(dialect, values)`` gets one bound parameter per value of the list (named
    ``in_0``, ``in_1``, …) and binds its other parameters by ``names``. Rows are read
    as ``Prepared.rows`` reads them.
    """

    def __init__(
        self,
        names: Sequence[str],
        build: Callable[[str, list[BindParameter[Any]]], ClauseElement],
    ) -> None:
        self.names = tuple(names)
        self._build = build
        self._by_length: dict[int, Prepared] = {}

    def rows(self, session: Session, fixed: Row, values: Sequence[Any]) -> list[Any]:
        """The rows for ``fixed`` (ordered as ``names``) and the list ``values``."""
        if not values:
            return []
        prepared = self._by_length.get(len(values))
        if prepared is None:
            listed: list[BindParameter[Any]] = [bindparam(f"in_{i}") for i in range(len(values))]
            prepared = Prepared(
                (*self.names, *(b.key for b in listed)),
                lambda dialect: self._build(dialect, listed),
            )
            self._by_length[len(values)] = prepared
        return prepared.rows(session, (*fixed, *values))
