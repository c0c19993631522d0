"""Timestamps in the ledger: aware UTC in and out, on every backend.

Every time column of the ledger (``bridge.ledger.tables``) has this type, so callers
only ever hand in and get back aware UTC, whatever the database keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on every backend.

    SQLite has no time zone type and hands back naive values; PostgreSQL hands back
    the session's zone. Both are normalised here so callers never see a naive time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("the ledger stores aware timestamps only; got a naive datetime")
        utc = value.astimezone(UTC)
        # SQLite would silently drop the offset anyway; stripping it here makes
        # "stored as UTC" explicit rather than an accident of the driver.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # SQLite keeps datetimes as text. SQLAlchemy's own conversion (a regular
    # expression, then the steps above) dominated reading a batch of links, so on
    # SQLite the text is written and read directly, in the very format SQLAlchemy
    # uses ("2026-03-02 01:00:00.000000"): comparisons in SQL are between strings,
    # and rows written either way must compare alike.

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return sqlite_text

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _sqlite_datetime


def sqlite_text(value: datetime | None) -> str | None:
    """``value`` as SQLite keeps it: UTC text in SQLAlchemy's own format."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise ValueError("the ledger stores aware timestamps only; got a naive datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
