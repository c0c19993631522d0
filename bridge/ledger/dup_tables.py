"""The duplicate index's tables (``bridge.ledger.duplicates``), declared with SQLModel.

Owned by migration ``0007_duplicates``. The index holds, per complaint, the normalised
text it is compared on (on this machine only, for rapidfuzz and ``bridge review``),
its exact-text hash, and keys: MinHash band keys and *hashed* reporter identifiers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bridge.ledger.timestamps import UTCDateTime


class DupEntryRow(SQLModel, table=True):
    """One complaint in the duplicate index."""

    __tablename__ = "dup_entry"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        foreign_key="complaint.id", nullable=False, ondelete="CASCADE", unique=True
    )
    text_hash: str = Field(max_length=32)
    text: str = Field(sa_type=Text)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    region: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)


class DupKeyRow(SQLModel, table=True):
    """One key of an indexed complaint: ``t:`` exact text, ``r:`` reporter, ``b<n>:`` band."""

    __tablename__ = "dup_key"
    # The candidate query reads the newest entries of each key from this index alone.
    __table_args__ = (Index("ix_dup_key_key_entry", "key", "entry_id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80)
    entry_id: int = Field(foreign_key="dup_entry.id", nullable=False, ondelete="CASCADE")


class DupPairRow(SQLModel, table=True):
    """A decision about a new record and a complaint it may duplicate.

    ``decision``: ``review`` (waiting for a person), ``linked`` (auto or by a person),
    ``not_duplicate`` (never proposed again), ``split`` (a link undone: not proposed again).
    """

    __tablename__ = "dup_pair"
    __table_args__ = (UniqueConstraint("ref", "candidate", name="uq_dup_pair_ref_candidate"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=64)
    candidate: str = Field(max_length=64, index=True)
    route: str = Field(max_length=100)
    system: str = Field(max_length=100)
    source_id: str = Field(max_length=200)
    decision: str = Field(max_length=16, index=True)
    text: str = Field(sa_type=Text)
    evidence: str = Field(default="{}", sa_type=Text)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
