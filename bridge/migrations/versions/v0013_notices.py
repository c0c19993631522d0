"""What connectors say about their set-up, kept so ``bridge status`` can show it.

``system_notice`` holds each system's current notices (an Open311 server without the
updates extension, a source whose clock runs hours ahead), with when each was first and
last seen. A cycle notes what its systems' connectors say now; a notice no connector has
said for a while is dropped (``bridge.ledger.notices``).

Revision ID: 0013_notices
Revises: 0010_ticket
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_notices"
down_revision: str | None = "0012_dup_speed"
branch_labels: str | None = None
depends_on: str | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "system_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("first_seen", _AT, nullable=False),
        sa.Column("last_seen", _AT, nullable=False),
        sa.UniqueConstraint("system", "text", name="uq_system_notice_text"),
    )


def downgrade() -> None:
    op.drop_table("system_notice")
