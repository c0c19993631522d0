"""The ledger's identity: a ``ledger_meta`` table with its id and generation.

``ledger_id`` (a random uuid4) tells one ledger from another; ``generation`` counts
cycle starts, so a ledger restored from an older copy shows a lower number than the
one the bridge last saw (``bridge.daemon.ledger_guard``). Keys ``adopted:<route>`` are the
sync's: present once a route finished one full pass over its source in this ledger.

Revision ID: 0005_ledger_meta
Revises: 0004_lease_identity
Create Date: 2026-12-07
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005_ledger_meta"
down_revision: str | None = "0004_lease_identity"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    meta = op.create_table(
        "ledger_meta",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    # Seeded here, not by the code: a new ledger and an upgraded one both get an
    # identity in the same transaction that creates the table.
    op.bulk_insert(
        meta,
        [
            {"key": "ledger_id", "value": str(uuid.uuid4())},
            {"key": "generation", "value": "0"},
        ],
    )


def downgrade() -> None:
    op.drop_table("ledger_meta")
