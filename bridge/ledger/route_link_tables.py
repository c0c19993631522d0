"""Per-route state of a link (``bridge.ledger.route_links``), declared with SQLModel.

Owned by migration ``0011_route_link``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bridge.ledger.timestamps import UTCDateTime


class RouteDefRow(SQLModel, table=True):
    """A route the ledger serves: which system it reads, which it writes."""

    __tablename__ = "route_def"

    route: str = Field(primary_key=True, max_length=100)
    source: str = Field(max_length=100)
    target: str = Field(max_length=100)


class RouteLinkRow(SQLModel, table=True):
    """What one route last saw of a record of its source, and when it polls it again."""

    __tablename__ = "route_link"
    __table_args__ = (
        UniqueConstraint("route", "link_id", name="uq_route_link_route_link"),
        # A route's due re-polls are a range of this index, already in order.
        Index("ix_route_link_route_next_poll", "route", "next_poll_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    route: str = Field(max_length=100)
    link_id: int = Field(foreign_key="link.id", nullable=False, ondelete="CASCADE")
    seen_hash: str | None = Field(default=None, max_length=64)
    next_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
