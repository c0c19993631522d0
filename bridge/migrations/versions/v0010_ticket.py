"""The ticket a system shows people, per link: what ``bridge trace`` also finds.

``link.ticket`` holds the record's ticket number (SIDUMAS's SDM-…, a LAPOR! tracking
id) trimmed and upper-cased, indexed for an exact lookup. Nullable: links made before
this revision get theirs when the engine next sees the record change.

Revision ID: 0010_ticket
Revises: 0007_duplicates
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_ticket"
down_revision: str | None = "0007_duplicates"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("link", sa.Column("ticket", sa.String(length=200), nullable=True))
    op.create_index("ix_link_ticket", "link", ["ticket"])


def downgrade() -> None:
    op.drop_index("ix_link_ticket", table_name="link")
    # SQLite cannot drop a column in place: batch mode copies the table.
    with op.batch_alter_table("link") as batch:
        batch.drop_column("ticket")
