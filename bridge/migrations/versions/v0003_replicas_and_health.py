"""Replicas and resilience: route leases, connector health, quarantine retries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "route_lease",
        sa.Column("route", sa.String(length=100), primary_key=True),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("run_number", sa.Integer(), nullable=False),
        sa.Column("expires_at", _AT, nullable=True),
        sa.Column("renewed_at", _AT, nullable=True),
    )
    op.create_table(
        "connector_health",
        sa.Column("connector", sa.String(length=100), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("paused_until", _AT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
    )
    # Nullable: a plain ALTER TABLE ADD COLUMN on both backends.
    op.add_column("quarantine", sa.Column("retry_requested_at", _AT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("retry_requested_at")
    op.drop_table("connector_health")
    op.drop_table("route_lease")
