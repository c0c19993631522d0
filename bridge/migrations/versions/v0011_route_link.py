"""Per-route state of a link: what each route last saw of a record, and its next poll.

One LAPOR! complaint linked to records of two doors is read by two routes
(``lapor-to-sidumas``, ``lapor-to-wadesk``); kept on the link, the first route to read a
change consumed it for both. ``route_def`` names each route's source and target;
``route_link`` holds, per (route, link), the hash last seen and the re-poll schedule.
The rows of a route are filled from the link's own columns when the route is first
registered (``bridge.ledger.route_links.register``, from the configuration, when the
bridge starts), so an upgraded ledger loses nothing it saw: the migration cannot know the
routes, which live in the configuration.

Revision ID: 0011_route_link
Revises: 0010_ticket
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_route_link"
down_revision: str | None = "0010_ticket"
branch_labels: str | None = None
depends_on: str | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "route_def",
        sa.Column("route", sa.String(length=100), primary_key=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
    )
    op.create_table(
        "route_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column(
            "link_id",
            sa.Integer(),
            sa.ForeignKey("link.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seen_hash", sa.String(length=64), nullable=True),
        sa.Column("next_poll_at", _AT, nullable=True),
        sa.Column("polled_at", _AT, nullable=True),
        sa.UniqueConstraint("route", "link_id", name="uq_route_link_route_link"),
    )
    op.create_index("ix_route_link_route_next_poll", "route_link", ["route", "next_poll_at"])


def downgrade() -> None:
    op.drop_table("route_link")
    op.drop_table("route_def")
