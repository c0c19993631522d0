"""The duplicate index: per complaint its normalised text and keys; decisions on pairs.

``dup_entry`` (one row per indexed complaint), ``dup_key`` (its exact-text, hashed
reporter and MinHash band keys, indexed by key) and ``dup_pair`` (the review queue and
every decision taken on a pair). See ``bridge.ledger.duplicates``.

Revision ID: 0007_duplicates
Revises: 0005_ledger_meta
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_duplicates"
down_revision: str | None = "0005_ledger_meta"
branch_labels: str | None = None
depends_on: str | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dup_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "complaint_id",
            sa.Integer(),
            sa.ForeignKey("complaint.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("region", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
    )
    op.create_table(
        "dup_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column(
            "entry_id",
            sa.Integer(),
            sa.ForeignKey("dup_entry.id", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_index("ix_dup_key_key_entry", "dup_key", ["key", "entry_id"])
    op.create_table(
        "dup_pair",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("candidate", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.UniqueConstraint("ref", "candidate", name="uq_dup_pair_ref_candidate"),
    )
    op.create_index("ix_dup_pair_candidate", "dup_pair", ["candidate"])
    op.create_index("ix_dup_pair_decision", "dup_pair", ["decision"])


def downgrade() -> None:
    op.drop_table("dup_pair")
    op.drop_table("dup_key")
    op.drop_table("dup_entry")
