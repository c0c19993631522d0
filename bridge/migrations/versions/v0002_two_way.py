"""Two-way sync: follow-ups and their copies, status time and setter, review flags, re-polls.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_AT = sa.DateTime(timezone=True)
# Mirrors bridge.model.FINAL_STATUSES, frozen here: a migration must not change
# with the code that runs after it.
_FINAL = ("closed", "archived", "rejected")


def _name(length: int) -> sa.String:
    return sa.String(length=length)


def _fk(column: str, target: str) -> sa.Column[int]:
    return sa.Column(
        column, sa.Integer(), sa.ForeignKey(target, ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    # Nullable columns only: a plain ALTER TABLE ADD COLUMN on both backends, so
    # SQLite never has to rebuild the link table.
    op.add_column("complaint", sa.Column("status_at", _AT, nullable=True))
    op.add_column("complaint", sa.Column("status_system", _name(100), nullable=True))
    op.add_column("link", sa.Column("next_poll_at", _AT, nullable=True))
    op.add_column("link", sa.Column("polled_at", _AT, nullable=True))
    op.create_index("ix_link_system_next_poll", "link", ["system", "next_poll_at"])
    _create_followups()
    _create_review()
    _schedule_open_links()


def _create_followups() -> None:
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("complaint_id", "complaint.id"),
        sa.Column("fingerprint", _name(100), nullable=False),
        sa.Column("origin_system", _name(100), nullable=False),
        sa.Column("origin_id", _name(200), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.UniqueConstraint("complaint_id", "fingerprint", name="uq_followup_fingerprint"),
    )
    op.create_table(
        "followup_copy",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("followup_id", "followup.id"),
        sa.Column("system", _name(100), nullable=False),
        sa.Column("remote_id", _name(200), nullable=True),
        sa.Column("state", _name(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.UniqueConstraint("followup_id", "system", name="uq_followup_copy_system"),
        sa.UniqueConstraint("system", "remote_id", name="uq_followup_copy_remote_id"),
    )


def _create_review() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("route", _name(100), nullable=False),
        sa.Column("ref", _name(64), nullable=False),
        sa.Column("system", _name(100), nullable=False),
        sa.Column("kind", _name(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("first_seen", _AT, nullable=False),
        sa.Column("last_seen", _AT, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("route", "ref", "system", "kind", name="uq_review_key"),
    )


def _schedule_open_links() -> None:
    """Links made before this revision are due at once, unless the complaint is final.

    Without this, every complaint linked before the upgrade would never be re-polled.
    """
    bind = op.get_bind()
    now = datetime.now(UTC)
    # Stored as the ledger's UTCDateTime stores it: naive UTC on SQLite.
    value = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    complaint = sa.table("complaint", sa.column("id"), sa.column("status"))
    link = sa.table("link", sa.column("complaint_id"), sa.column("next_poll_at", _AT))
    open_ids = sa.select(complaint.c.id).where(
        sa.or_(complaint.c.status.is_(None), complaint.c.status.not_in(_FINAL))
    )
    op.execute(link.update().where(link.c.complaint_id.in_(open_ids)).values(next_poll_at=value))


def downgrade() -> None:
    op.drop_table("review")
    op.drop_table("followup_copy")
    op.drop_table("followup")
    op.drop_index("ix_link_system_next_poll", table_name="link")
    with op.batch_alter_table("link") as batch:
        batch.drop_column("polled_at")
        batch.drop_column("next_poll_at")
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("status_system")
        batch.drop_column("status_at")
