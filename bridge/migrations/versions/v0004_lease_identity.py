"""Lease holders' identity, and when a create was sent: what a takeover needs to know.

``route_lease.holder_identity`` proves a holder a gone process of this machine;
``pending_op.sent_at`` tells a create that may be on its way from one never sent.

Revision ID: 0004_lease_identity
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_lease_identity"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Nullable: existing leases keep an unknown identity, so they are only taken over on
    # expiry (bridge.ledger.leases); a plain ALTER TABLE ADD COLUMN on both backends.
    op.add_column("route_lease", sa.Column("holder_identity", sa.String(length=200), nullable=True))
    # NULL for creates started before: never sent as far as anyone knows, as before.
    op.add_column("pending_op", sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pending_op") as batch:
        batch.drop_column("sent_at")
    with op.batch_alter_table("route_lease") as batch:
        batch.drop_column("holder_identity")
