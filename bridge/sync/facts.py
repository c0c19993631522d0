"""The facts a page's plan is made of: what was observed, and what the ledger and target hold.

Plain data. ``bridge.sync.observe`` gathers them; ``bridge.sync.plan`` decides on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bridge.dedup import DedupRules, Probe, Verdict
from bridge.model import Complaint
from bridge.sync.adoption import Found
from bridge.sync.outgoing import Outgoing, Unwritable


@dataclass(frozen=True)
class Observation:
    """One native record from the source, already mapped (or refused by the mapping)."""

    source_id: str
    native: Mapping[str, Any]
    complaint: Complaint | None = None
    seen_hash: str | None = None
    """``bridge.model.change_hash`` of the record: compared with what the ledger last saw."""
    problem: str | None = None
    problem_field: str | None = None
    mapped: bool = True
    """False for a record recognised as unchanged from the route's memo without mapping it
    again; observe maps it after all when it needs more than a skip."""
    updated_at: datetime | None = None
    """The record's update time as its mapping reads it (``native_updated_at``), if ``stamped``."""
    stamped: bool = False
    """True when ``updated_at`` was read (mapped, or remembered): the cursor and the clock
    watch take it from here instead of parsing the record once more."""

    @property
    def ticket(self) -> str | None:
        """The source's own human-facing number for the record, when it has one."""
        return self.complaint.ticket if self.complaint is not None else None


@dataclass(frozen=True)
class KnownRecord:
    """What the ledger holds about a source record: its reference and last seen hash."""

    ref: str
    last_seen_hash: str | None


@dataclass(frozen=True)
class Facts:
    """Everything the planner may look at for one page."""

    observations: Sequence[Observation]
    known: Mapping[str, KnownRecord]
    """Source id → ledger record, for source records the ledger already links."""
    pending_refs: Set[str]
    """References whose create was started and not confirmed."""
    refs: Mapping[str, str]
    """Source id → the complaint's reference: the ledger's, else the one the bridge makes
    for it (``bridge.model.make_ref``, deterministic per source system)."""
    target: str
    target_receives_confidential: bool
    target_can_create: bool = True
    target_can_find_by_ref: bool = False
    settling: Set[str] = frozenset()
    """Pending references whose last attempt is too recent to look up (a search index lags)."""
    adoptable: Mapping[str, str] = field(default_factory=dict)
    """Source id → ref, for unlinked records carrying the reference of a complaint we know."""
    quarantined_unchanged: Set[str] = frozenset()
    """Source ids quarantined earlier and unchanged since."""
    outgoing: Mapping[str, Outgoing | Unwritable] = field(default_factory=dict)
    """Source id → the record as it would be created, for the records bound for the target
    (``bridge.sync.plan.bound_for_target``)."""
    found: Mapping[str, tuple[Found, ...]] = field(default_factory=dict)
    """Source id → copies the target holds of it already, best first (records bound for it)."""
    own_ref: Callable[[str], bool] = lambda ref: False
    """True for a reference this installation made (``bridge.model.made_by``)."""
    reverse_adopting: bool = False
    """A route reading this route's target has not made its first pass in this ledger yet."""
    first_pass: bool = False
    """A route's first full pass in this ledger: the target may hold any record already."""
    link_only: bool = False
    """A rebuild: records the target does not hold are not created."""
    duplicates: Mapping[str, Verdict] = field(default_factory=dict)
    """Source id → the duplicate check's verdict, for new records bound for the target
    (``bridge.sync.duplicates``; empty when the route's check is off)."""
    probes: Mapping[str, Probe] = field(default_factory=dict)
    """Source id → what the duplicate index keeps of the record once it is sent."""
    duplicate_rules: DedupRules | None = None
    """The route's duplicate check, to compare a page's new records with each other."""
    listed: Sequence[Observation] = ()
    """Every record of the page as observed, before a selection (``CycleOptions.select``):
    the clock watch (``bridge.sync.skew_watch``) reads their update times."""
