"""The ledger's tables, declared with SQLModel.

The schema itself is owned by the Alembic migrations in ``bridge.migrations``; these
classes describe it for queries and for ``alembic revision --autogenerate``. The
ledger only ever issues Core statements against ``TABLES`` (bulk upserts), so the
classes are never instantiated.

No personal data lives here: complaints are remembered by identifiers and content
hashes, and quarantined records arrive already masked by the caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bridge.ledger import (
    dup_tables,  # noqa: F401  (registers the duplicate index's tables)
    route_link_tables,  # noqa: F401  (registers route_def, route_link)
)
from bridge.ledger.timestamps import UTCDateTime


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
    # When the normalised status last changed and which system set it: what a
    # status conflict is decided on (the older event never wins, TRAPS.md).
    status_at: datetime | None = _at(nullable=True)
    status_system: str | None = Field(default=None, max_length=100)


class LinkRow(SQLModel, table=True):
    """Where a complaint lives in one system, and the hashes last seen and written there."""

    __tablename__ = "link"
    __table_args__ = (
        UniqueConstraint("system", "remote_id", name="uq_link_system_remote_id"),
        UniqueConstraint("complaint_id", "system", name="uq_link_complaint_system"),
        # Polls.due walks this index in next_poll_at order (a route's own schedule: route_link).
        Index("ix_link_system_next_poll", "system", "next_poll_at"),
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
    # Re-poll schedule for systems without a change feed; NULL = not polled
    # (a final complaint, or a system that is never re-polled).
    next_poll_at: datetime | None = _at(nullable=True)
    polled_at: datetime | None = _at(nullable=True)
    # The ticket number the system shows people for this record (SDM-2026-000002,
    # a LAPOR! tracking id), trimmed and upper-cased so ``bridge trace`` finds it
    # whatever case a person types. Migration 0010_ticket.
    ticket: str | None = Field(default=None, max_length=200, index=True)


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
    # When the remote create was last about to be sent (NULL: never), for takeovers.
    sent_at: datetime | None = _at(nullable=True)


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
    retry_requested_at: datetime | None = _at(nullable=True)
    """Set by ``bridge quarantine retry``: the next cycle fetches the record again."""


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


class FollowupRow(SQLModel, table=True):
    """One follow-up of a complaint, known by the fingerprint of its content.

    The fingerprint is its identity: the same one on two systems is one follow-up,
    and a system repeating an identical follow-up adds nothing (TRAPS.md).
    """

    __tablename__ = "followup"
    __table_args__ = (
        UniqueConstraint("complaint_id", "fingerprint", name="uq_followup_fingerprint"),
    )

    id: int | None = _id()
    complaint_id: int = _fk("complaint.id")
    fingerprint: str = Field(max_length=100)
    origin_system: str = Field(max_length=100)
    origin_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = _at()


class FollowupCopyRow(SQLModel, table=True):
    """A follow-up's copy in one system: seen there ("done") or being written ("started")."""

    __tablename__ = "followup_copy"
    __table_args__ = (
        UniqueConstraint("followup_id", "system", name="uq_followup_copy_system"),
        # NULLs never collide (SQLite and PostgreSQL alike): a copy whose remote id
        # is not known yet does not block another.
        UniqueConstraint("system", "remote_id", name="uq_followup_copy_remote_id"),
    )

    id: int | None = _id()
    followup_id: int = _fk("followup.id")
    system: str = Field(max_length=100)
    remote_id: str | None = Field(default=None, max_length=200)
    state: str = Field(max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _at()


class ReviewRow(SQLModel, table=True):
    """Something a person must look at (an unknown raw status, a refused transition).

    Unlike quarantine, the record still goes through; the flag only asks for a look.
    """

    __tablename__ = "review"
    __table_args__ = (UniqueConstraint("route", "ref", "system", "kind", name="uq_review_key"),)

    id: int | None = _id()
    route: str = Field(max_length=100)
    ref: str = Field(max_length=64)
    system: str = Field(max_length=100)
    kind: str = Field(max_length=64)
    reason: str = Field(sa_type=Text)
    detail: str = Field(default="{}", sa_type=Text)
    first_seen: datetime = _at()
    last_seen: datetime = _at()
    count: int = 0
    resolved: bool = False


class RouteLeaseRow(SQLModel, table=True):
    """Which replica runs a route, until when, and the run number that fences it.

    A replica claims a route only when no live lease is held by another; every claim
    increments ``run_number``, so a replica whose lease expired can tell, before it
    writes, that somebody else has taken over.
    """

    __tablename__ = "route_lease"

    route: str = Field(primary_key=True, max_length=100)
    holder: str | None = Field(default=None, max_length=200)
    # "run <n> <ReplicaIdentity.to_text()>"; NULL for holders of older versions.
    holder_identity: str | None = Field(default=None, max_length=200)
    run_number: int = 0
    expires_at: datetime | None = _at(nullable=True)
    renewed_at: datetime | None = _at(nullable=True)


class ConnectorHealthRow(SQLModel, table=True):
    """A connector's run of failures, and until when it is paused because of them."""

    __tablename__ = "connector_health"

    connector: str = Field(primary_key=True, max_length=100)
    failures: int = 0
    paused_until: datetime | None = _at(nullable=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _at()


class LedgerMetaRow(SQLModel, table=True):
    """What the ledger knows of itself: its id, its generation, routes adopted (``meta``)."""

    __tablename__ = "ledger_meta"

    key: str = Field(primary_key=True, sa_type=Text)
    value: str = Field(sa_type=Text)


class SystemNoticeRow(SQLModel, table=True):
    """What a connector says a person should know about its set-up (``ledger.notices``).

    Written by the connector, never from a record: no personal data. Migration 0013_notices.
    """

    __tablename__ = "system_notice"
    __table_args__ = (UniqueConstraint("system", "text", name="uq_system_notice_text"),)

    id: int | None = _id()
    system: str = Field(max_length=100)
    text: str = Field(max_length=500)
    first_seen: datetime = _at()
    last_seen: datetime = _at()


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


COMPLAINT = _table("complaint")
LINK = _table("link")
PENDING_OP = _table("pending_op")
CURSOR = _table("cursor")
QUARANTINE = _table("quarantine")
EVENT = _table("event")
CYCLE_RUN = _table("cycle_run")
FOLLOWUP = _table("followup")
FOLLOWUP_COPY = _table("followup_copy")
REVIEW = _table("review")
ROUTE_LEASE = _table("route_lease")
CONNECTOR_HEALTH = _table("connector_health")
LEDGER_META = _table("ledger_meta")
SYSTEM_NOTICE = _table("system_notice")
DUP_ENTRY = _table("dup_entry")
DUP_KEY = _table("dup_key")
DUP_PAIR = _table("dup_pair")
ROUTE_DEF = _table("route_def")
ROUTE_LINK = _table("route_link")
