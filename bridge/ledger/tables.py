"""The ledger's tables, declared with SQLModel.

The schema itself is owned by the Alembic migrations in ``bridge.migrations``; these
classes describe it for queries and for ``alembic revision --autogenerate``. The
ledger only ever issues Core statements against ``TABLES`` (bulk upserts), so the
classes are never instantiated.

No personal data lives here: complaints are remembered by identifiers and content
hashes, and quarantined records arrive already masked by the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Index, Table, Text, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


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


def _id() -> Any:
    return Field(default=None, primary_key=True)


def _at(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


def _fk(target: str) -> Any:
    return Field(foreign_key=target, nullable=False, ondelete="CASCADE")


class ComplaintRow(SQLModel, table=True):
    """One complaint, whichever systems hold it; known by the bridge's own reference."""

    __tablename__ = "complaint"

    id: int | None = _id()
    ref: str = Field(unique=True, max_length=64)
    origin_system: str = Field(max_length=100)
    origin_id: str = Field(max_length=200)
    created_at: datetime = _at()
    status: str | None = Field(default=None, max_length=32)


class LinkRow(SQLModel, table=True):
    """Where a complaint lives in one system, and the hashes last seen and written there."""

    __tablename__ = "link"
    __table_args__ = (
        UniqueConstraint("system", "remote_id", name="uq_link_system_remote_id"),
        UniqueConstraint("complaint_id", "system", name="uq_link_complaint_system"),
    )

    id: int | None = _id()
    complaint_id: int = _fk("complaint.id")
    system: str = Field(max_length=100)
    remote_id: str = Field(max_length=200)
    last_seen_hash: str | None = Field(default=None, max_length=64)
    last_written_hash: str | None = Field(default=None, max_length=64)
    raw_status_code: str | None = Field(default=None, max_length=100)
    raw_status_label: str | None = Field(default=None, max_length=200)
    seen_at: datetime | None = _at(nullable=True)
    updated_at: datetime = _at()


class PendingOpRow(SQLModel, table=True):
    """An operation whose intent is committed before the remote call is made."""

    __tablename__ = "pending_op"
    __table_args__ = (
        UniqueConstraint("kind", "target_system", "complaint_id", name="uq_pending_op_target"),
        Index("ix_pending_op_route_state", "route", "target_system", "state"),
    )

    id: int | None = _id()
    kind: str = Field(max_length=32)
    route: str = Field(max_length=100)
    complaint_id: int = _fk("complaint.id")
    target_system: str = Field(max_length=100)
    ref: str = Field(max_length=64)
    state: str = Field(max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _at()
    updated_at: datetime = _at()


class CursorRow(SQLModel, table=True):
    """How far a route has read one system."""

    __tablename__ = "cursor"
    __table_args__ = (UniqueConstraint("route", "system", name="uq_cursor_route_system"),)

    id: int | None = _id()
    route: str = Field(max_length=100)
    system: str = Field(max_length=100)
    value: str = Field(sa_type=Text)
    updated_at: datetime = _at()


class QuarantineRow(SQLModel, table=True):
    """A source record set aside with the reason it could not go through."""

    __tablename__ = "quarantine"
    __table_args__ = (
        UniqueConstraint("route", "system", "source_id", name="uq_quarantine_source"),
    )

    id: int | None = _id()
    route: str = Field(max_length=100)
    system: str = Field(max_length=100)
    source_id: str = Field(max_length=200)
    reason: str = Field(sa_type=Text)
    field: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    record_json: str = Field(sa_type=Text)
    first_seen: datetime = _at()
    last_seen: datetime = _at()


class EventRow(SQLModel, table=True):
    """One line of a complaint's history.

    ``key`` makes each event idempotent: a retried write of the same step collides
    on UNIQUE(complaint_id, key) instead of appending a second line (TRAPS.md).
    """

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("complaint_id", "key", name="uq_event_key"),
        Index("ix_event_complaint_at", "complaint_id", "at"),
    )

    id: int | None = _id()
    complaint_id: int = _fk("complaint.id")
    key: str = Field(max_length=200)
    at: datetime = _at()
    route: str | None = Field(default=None, max_length=100)
    kind: str = Field(max_length=64)
    system: str | None = Field(default=None, max_length=100)
    detail: str = Field(default="{}", sa_type=Text)


class CycleRunRow(SQLModel, table=True):
    """One cycle of one route, for ``bridge status``."""

    __tablename__ = "cycle_run"
    __table_args__ = (Index("ix_cycle_run_route_started", "route", "started_at"),)

    id: int | None = _id()
    route: str = Field(max_length=100)
    started_at: datetime = _at()
    finished_at: datetime | None = _at(nullable=True)
    ok: bool | None = None
    counts: str = Field(default="{}", sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


COMPLAINT = _table("complaint")
LINK = _table("link")
PENDING_OP = _table("pending_op")
CURSOR = _table("cursor")
QUARANTINE = _table("quarantine")
EVENT = _table("event")
CYCLE_RUN = _table("cycle_run")
