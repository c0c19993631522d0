"""Pulling the ``sql`` connector's complaints: pages of records, by cursor or by scan.

With an update-time column, pages follow (updated_at, id) up to the hold-back boundary of
the *database's* clock, then the older complaints that got a response since (a new
``tanggapan`` does not touch its complaint's update time). Without one, the whole table is
read by id. Each page's responses are read by one ``IN`` query.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Select, func, select

from bridge.connector import NativeRecord
from bridge.skew import future_skew

from .sql_database import SqlDatabase
from .sql_params import db_time
from .sql_query import CursorKey, RecordQueries

log = structlog.get_logger(__name__)


class SqlPull:
    """Pages of one connector's complaint table (its name, database, and page settings)."""

    def __init__(
        self, name: str, db: SqlDatabase, page_size: int, hold_back: float, zone: ZoneInfo
    ) -> None:
        self.name = name
        self._db = db
        self._page_size = page_size
        self._hold_back = timedelta(seconds=hold_back)
        self._zone = zone
        # What the last pull saw of the source's clock (``_check_clock``), for notices().
        self.clock_note: str | None = None

    def pages(self, queries: RecordQueries, since: datetime | None) -> Iterator[list[NativeRecord]]:
        """Every page changed since ``since`` (all, without an update-time column)."""
        if queries.layout.updated_at is None:
            yield from self._scan(queries)
        else:
            yield from self._follow(queries, since)

    def records(self, queries: RecordQueries, rows: Sequence[Any]) -> list[NativeRecord]:
        """Rows as records, with every response of the page read by one ``IN`` query."""
        records: list[NativeRecord] = []
        seen: set[str] = set()
        for row in rows:
            record_id = str(queries.raw_id(row))
            if record_id in seen:
                # A join that is not one-to-one repeats the row; keep the first.
                log.warning("sql.join.not_one_to_one", connector=self.name)
                continue
            seen.add(record_id)
            records.append(queries.record(row))
        responses = queries.layout.responses
        if responses is not None and records:
            ids = list(dict.fromkeys(queries.raw_id(row) for row in rows))
            grouped = queries.response_records(self._db.fetch(queries.responses_of(ids), "pull"))
            for raw, record in zip(ids, records, strict=True):
                record[responses.key] = grouped.get(str(raw), [])
        return records

    def _follow(
        self, queries: RecordQueries, since: datetime | None
    ) -> Iterator[list[NativeRecord]]:
        updated = queries.layout.updated_at
        assert updated is not None
        db_now = self._db.now(updated)
        boundary = db_now - self._hold_back
        self._check_clock(updated, db_now)
        since_value = None if since is None else db_time(since, updated, self._zone)

        def page(after: CursorKey | None) -> Select[Any]:
            return queries.cursor_page(boundary, since_value, after, self._page_size)

        pages, rows = yield from self._paged(queries, page, queries.cursor_key, "pull")
        if since_value is not None:
            # Older complaints with a response since: their answers must flow too.
            def answered(after: Any) -> Select[Any] | None:
                return queries.answered_page(since_value, after, self._page_size)

            _, more = yield from self._paged(queries, answered, queries.raw_id, "pull answered")
            rows += more
        log.info("sql.pull.finished", connector=self.name, pages=pages, rows=rows)

    def _check_clock(self, updated: Any, db_now: datetime) -> None:
        """Rows hours ahead of the database's clock wait behind the hold-back: say so, once
        per pull, as a log line and as a notice (``bridge status``)."""
        newest = self._db.fetch(select(func.max(updated)), "pull")[0][0]
        skew = None
        if isinstance(newest, datetime):
            skew = future_skew(newest, db_now, self._zone.key, clock="the database's clock")
        self.clock_note = None if skew is None else f"{self.name}: {skew.problem}; {skew.fix}"
        if skew is not None:
            log.warning("sql.clock.ahead", connector=self.name, problem=skew.problem, fix=skew.fix)

    def _scan(self, queries: RecordQueries) -> Iterator[list[NativeRecord]]:
        def page(after: Any) -> Select[Any]:
            return queries.scan_page(after, self._page_size)

        pages, rows = yield from self._paged(queries, page, queries.raw_id, "pull")
        log.info("sql.pull.finished", connector=self.name, pages=pages, rows=rows)

    def _paged(
        self,
        queries: RecordQueries,
        page: Callable[[Any], Select[Any] | None],
        after_of: Callable[[Any], Any],
        what: str,
    ) -> Generator[list[NativeRecord], None, tuple[int, int]]:
        """The records of ``page(after)`` until a short page; returns (pages, rows) read."""
        after: Any = None
        pages = rows_total = 0
        while (query := page(after)) is not None:
            rows = self._db.fetch(query, what)
            if not rows:
                break
            pages, rows_total = pages + 1, rows_total + len(rows)
            yield self.records(queries, rows)
            if len(rows) < self._page_size:
                break
            after = after_of(rows[-1])
        return pages, rows_total
