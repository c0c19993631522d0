"""Queries of the sql connector, built with SQLAlchemy Core from the reflected ``Layout``.

Pure: statements in, records out; no connections. Every value is a bound parameter.
Pages use keyset pagination (``WHERE (updated_at, id) > (:last_u, :last_id)``) rather
than OFFSET: each page is one indexed range read, so a million-row table streams with
flat memory and rows inserted meanwhile cannot shift a page boundary.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.sql import sqltypes

from bridge.connector import NativeRecord

from .sql_schema import BoundResponses, Layout
from .sql_values import native_value

CursorKey = tuple[Any, Any]
"""The raw (updated_at, id) of the last row of a page, as the database gave them."""


def _is_date(column: ColumnElement[Any]) -> bool:
    return isinstance(column.type, sqltypes.Date | sqltypes.DateTime)


@dataclass(frozen=True)
class _Segment:
    """A run of selected columns that lands in one place of the record."""

    prefix: str | None  # None: the complaint row itself; else a join's nested dict
    names: tuple[str, ...]
    dates: frozenset[str]


def _segment(prefix: str | None, columns: Iterable[ColumnElement[Any]]) -> _Segment:
    cols = list(columns)
    names = tuple(str(getattr(c, "name", "")) for c in cols)
    return _Segment(
        prefix, names, frozenset(n for n, c in zip(names, cols, strict=True) if _is_date(c))
    )


class RecordQueries:
    """The statements of one ``Layout`` and the conversion of their rows into records."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        main = layout.table
        source: Any = main
        columns: list[ColumnElement[Any]] = list(main.c)
        self._segments = [_segment(None, main.c)]
        for join in layout.joins:
            # LEFT JOIN: a complaint whose reporter row is gone is still a complaint.
            source = source.outerjoin(join.table, and_(*(a == b for a, b in join.on)))
            columns.extend(join.table.c)
            self._segments.append(_segment(join.prefix, join.table.c))
        self._base: Select[Any] = select(*columns).select_from(source)
        self._id_index = list(main.c).index(layout.id_column)
        upd = layout.updated_at
        self._updated_index = list(main.c).index(upd) if upd is not None else None

    # -- statements ----------------------------------------------------------------------

    def cursor_page(
        self, boundary: datetime, since: datetime | None, after: CursorKey | None, size: int
    ) -> Select[Any]:
        """The next page ordered by (updated_at, id), held back after ``boundary``."""
        updated, ident = self.layout.updated_at, self.layout.id_column
        assert updated is not None
        query = self._base.where(updated <= boundary)
        if since is not None:
            query = query.where(updated >= since)
        if after is not None:
            # Spelled out rather than a row-value comparison: both MariaDB and
            # PostgreSQL use an (updated_at, id) index for it.
            last_u, last_id = after
            query = query.where(or_(updated > last_u, and_(updated == last_u, ident > last_id)))
        return query.order_by(updated, ident).limit(size)

    def answered_page(self, since: datetime, after: Any, size: int) -> Select[Any] | None:
        """Complaints changed before ``since`` that got a response since, by id; None
        without a response time to compare.

        A new ``tanggapan`` does not touch the complaint's own update time, so in cursor
        mode an answer to a closed complaint would never be read again otherwise.
        """
        resp, updated = self.layout.responses, self.layout.updated_at
        if resp is None or resp.order_by is None or updated is None:
            return None
        at: Any = since
        if isinstance(resp.order_by.type, sqltypes.Date) and not isinstance(
            resp.order_by.type, sqltypes.DateTime
        ):
            at = since.date()  # a DATE column: the whole day counts, its answers included
        answered = select(resp.foreign_key).where(resp.order_by >= at)
        ident = self.layout.id_column
        query = self._base.where(updated < since, ident.in_(answered))
        if after is not None:
            query = query.where(ident > after)
        return query.order_by(ident).limit(size)

    def scan_page(self, after: Any, size: int) -> Select[Any]:
        """The next page ordered by id (no update time to follow)."""
        ident = self.layout.id_column
        query = self._base if after is None else self._base.where(ident > after)
        return query.order_by(ident).limit(size)

    def by_id(self, record_id: Any) -> Select[Any]:
        return self._base.where(self.layout.id_column == record_id).limit(1)

    def exists(self, record_id: Any) -> Select[Any]:
        ident = self.layout.id_column
        return select(ident).where(ident == record_id).limit(1)

    def null_updated_at_count(self) -> Select[Any]:
        updated = self.layout.updated_at
        assert updated is not None
        return select(func.count()).select_from(self.layout.table).where(updated.is_(None))

    def responses_of(self, record_ids: Sequence[Any]) -> Select[Any]:
        """Every response of these records in one ``IN`` query, oldest first per record."""
        resp = self._responses()
        order: list[ColumnElement[Any]] = [resp.foreign_key]
        if resp.order_by is not None:
            order.append(resp.order_by)
        order.append(resp.id_column)
        return select(resp.table).where(resp.foreign_key.in_(record_ids)).order_by(*order)

    # -- rows → records ------------------------------------------------------------------

    def cursor_key(self, row: Row[Any]) -> CursorKey:
        assert self._updated_index is not None
        return (row[self._updated_index], row[self._id_index])

    def raw_id(self, row: Row[Any]) -> Any:
        return row[self._id_index]

    def record(self, row: Row[Any]) -> NativeRecord:
        """The complaint row's columns, each join's columns as a nested dict under its prefix."""
        values = tuple(row)
        record: NativeRecord = {}
        start = 0
        for segment in self._segments:
            part = values[start : start + len(segment.names)]
            start += len(segment.names)
            converted = {
                name: native_value(value, is_date=name in segment.dates)
                for name, value in zip(segment.names, part, strict=True)
            }
            if segment.prefix is None:
                record.update(converted)
            else:
                record[segment.prefix] = converted
        return record

    def response_records(self, rows: Iterable[Row[Any]]) -> dict[str, list[NativeRecord]]:
        """Response rows grouped by the text of their foreign key."""
        resp = self._responses()
        names = [c.name for c in resp.table.c]
        dates = {c.name for c in resp.table.c if _is_date(c)}
        fk = names.index(resp.foreign_key.name)
        grouped: dict[str, list[NativeRecord]] = defaultdict(list)
        for row in rows:
            values = tuple(row)
            grouped[str(values[fk])].append(
                {n: native_value(v, is_date=n in dates) for n, v in zip(names, values, strict=True)}
            )
        return grouped

    def _responses(self) -> BoundResponses:
        assert self.layout.responses is not None
        return self.layout.responses
