"""The initial ledger: complaints, links, pending operations, cursors, quarantine, history.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_AT = sa.DateTime(timezone=True)


def _name(length: int) -> sa.String:
    return sa.String(length=length)


def _complaint_fk() -> sa.Column[int]:
    return sa.Column(
        "complaint_id",
        sa.Integer(),
        sa.ForeignKey("complaint.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", _name(64), nullable=False, unique=True),
        sa.Column("origin_system", _name(100), nullable=False),
        sa.Column("origin_id", _name(200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("status", _name(32), nullable=True),
    )
    op.create_table(
        "link",
        sa.Column("id", sa.Integer(), primary_key=True),
        _complaint_fk(),
        sa.Column("system", _name(100), nullable=False),
        sa.Column("remote_id", _name(200), nullable=False),
        sa.Column("last_seen_hash", _name(64), nullable=True),
        sa.Column("last_written_hash", _name(64), nullable=True),
        sa.Column("raw_status_code", _name(100), nullable=True),
        sa.Column("raw_status_label", _name(200), nullable=True),
        sa.Column("seen_at", _AT, nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.UniqueConstraint("system", "remote_id", name="uq_link_system_remote_id"),
        sa.UniqueConstraint("complaint_id", "system", name="uq_link_complaint_system"),
    )
    op.create_table(
        "pending_op",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", _name(32), nullable=False),
        sa.Column("route", _name(100), nullable=False),
        _complaint_fk(),
        sa.Column("target_system", _name(100), nullable=False),
        sa.Column("ref", _name(64), nullable=False),
        sa.Column("state", _name(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.UniqueConstraint("kind", "target_system", "complaint_id", name="uq_pending_op_target"),
    )
    op.create_index("ix_pending_op_route_state", "pending_op", ["route", "target_system", "state"])
    op.create_table(
        "cursor",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("route", _name(100), nullable=False),
        sa.Column("system", _name(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.UniqueConstraint("route", "system", name="uq_cursor_route_system"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("route", _name(100), nullable=False),
        sa.Column("system", _name(100), nullable=False),
        sa.Column("source_id", _name(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("field", _name(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("record_json", sa.Text(), nullable=False),
        sa.Column("first_seen", _AT, nullable=False),
        sa.Column("last_seen", _AT, nullable=False),
        sa.UniqueConstraint("route", "system", "source_id", name="uq_quarantine_source"),
    )
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), primary_key=True),
        _complaint_fk(),
        sa.Column("key", _name(200), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("route", _name(100), nullable=True),
        sa.Column("kind", _name(64), nullable=False),
        sa.Column("system", _name(100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.UniqueConstraint("complaint_id", "key", name="uq_event_key"),
    )
    op.create_index("ix_event_complaint_at", "event", ["complaint_id", "at"])
    op.create_table(
        "cycle_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("route", _name(100), nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_cycle_run_route_started", "cycle_run", ["route", "started_at"])


def downgrade() -> None:
    for index, table in (
        ("ix_cycle_run_route_started", "cycle_run"),
        ("ix_event_complaint_at", "event"),
        ("ix_pending_op_route_state", "pending_op"),
    ):
        op.drop_index(index, table_name=table)
    for table in ("cycle_run", "event", "quarantine", "cursor", "pending_op", "link", "complaint"):
        op.drop_table(table)
