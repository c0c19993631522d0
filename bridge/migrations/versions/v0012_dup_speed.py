"""The duplicate key index read alone: autovacuum keeps ``dup_key``'s visibility map fresh.

The candidate query reads the newest entries of each key from ``ix_dup_key_key_entry``
(``bridge.ledger.dup_candidates``). On PostgreSQL such a scan reads the index alone only for
heap pages the visibility map marks all-visible; it visits the table for every other row.
``dup_key`` only grows, and autovacuum sets the map on an insert-only table after new rows
reach 20 % of it by default: at 1,000,000 complaints (22 million keys) 4 million keys, the
newest — the very ones the query reads. Measured at 1M, the query read 420 table rows and
128 pages from outside PostgreSQL's cache per check before a vacuum, 0 and 31 after
(``bench/dedup_latency.py``). Here autovacuum runs after every 1 % instead. SQLite has no
such map (its index scans never visit the table): nothing to do there.

Revision ID: 0012_dup_speed
Revises: 0010_ticket
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0012_dup_speed"
down_revision: str | None = "0011_route_link"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dup_key SET (autovacuum_vacuum_insert_scale_factor = 0.01)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dup_key RESET (autovacuum_vacuum_insert_scale_factor)")
