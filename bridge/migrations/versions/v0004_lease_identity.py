"""Lease holders' identity: what proves a holder is a gone process of this machine.

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


def downgrade() -> None:
    with op.batch_alter_table("route_lease") as batch:
        batch.drop_column("holder_identity")
