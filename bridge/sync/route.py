"""What a cycle works on: the wired route and the options of one cycle.

Plain data: ``bridge.sync.cycle`` runs cycles over these; the daemon and the CLI
build them (``bridge.sync.wiring``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from bridge.connector import Connector
from bridge.dedup import DedupRules
from bridge.health import PausePolicy
from bridge.ledger import Ledger, RouteLedger, RouteMemory
from bridge.lifecycle import owners_from
from bridge.mapping import Mapping as FieldMapping
from bridge.model import Status
from bridge.sync.adoption import Adoption

if TYPE_CHECKING:
    from bridge.sync.facts import Observation
    from bridge.sync.report import CycleReport


@dataclass(frozen=True)
class Route:
    """A configured route with its connectors, mappings and ledger wired together."""

    name: str
    source: Connector
    target: Connector
    source_mapping: FieldMapping
    target_mapping: FieldMapping
    ledger: Ledger
    lookback: timedelta = timedelta(minutes=10)
    repoll_budget: int = 100
    """Linked complaints re-checked per cycle at most (detail and follow-ups)."""
    linked_retry: timedelta = timedelta(minutes=5)
    """When a follow-up or status write that failed transiently is tried again."""
    forward: ForwardRule | None = None
    pause_policy: PausePolicy = field(default_factory=PausePolicy)
    """When a connector that keeps failing is paused (see ``bridge.health``)."""
    reverse_routes: tuple[str, ...] = ()
    """Routes that carry records the other way (their source is this route's target)."""
    installation: str = ""
    """Who this bridge is (``[ledger] installation``): part of every reference it makes."""
    max_create_attempts: int = 5
    """Cycles in a row a create may stay unconfirmed (5xx, lost answer) before it is set aside."""
    settle: timedelta = timedelta(0)
    scrub_anonymous_text: bool = True
    """``[routes.privacy]``: an anonim complaint's text and file names leave without identity."""
    send_anonymous_location: bool = False
    """``[routes.privacy]``: an anonim complaint's address and coordinates may leave."""
    """How long after an unconfirmed create the target is searched for it (an index may lag)."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """Decides when re-polls are due; tests move it instead of waiting."""
    duplicates: DedupRules | None = None
    """The cross-door duplicate check before a create (None: off; ``bridge.sync.duplicates``)."""
    reporter_secret: bytes = b""
    """Keys the reporter hashes the duplicate check compares (the ledger's id)."""
    memo: dict[str, tuple[str, str, datetime | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Raw record digest → (source id, seen hash, updated_at): a daemon lists the same
    unchanged records every cycle, and mapping them again is most of an idle cycle's CPU."""

    @cached_property
    def memory(self) -> RouteMemory:
        """The ledger as this route sees it: its route, source and target names bound."""
        return RouteLedger(self.ledger, self.name, self.source.name, self.target.name)

    @cached_property
    def owners(self) -> dict[Status, frozenset[str]]:
        """Status → the systems that own transitions into it, from both mapping files."""
        return owners_from(
            {
                self.source.name: self.source_mapping.owned_statuses,
                self.target.name: self.target_mapping.owned_statuses,
            }
        )


@dataclass(frozen=True)
class ForwardRule:
    """Forward a complaint (*Bukan Wewenang*) when the source sets it to ``on_status``."""

    on_status: Status
    to_institution: str
    reason: str


@dataclass(frozen=True)
class CycleOptions:
    """How a cycle differs from the daemon's ordinary one (``backfill``, ``ledger rebuild``)."""

    dry_run: bool = False
    """Plan and report; write nothing anywhere (reading the target is allowed)."""
    since: datetime | None = None
    """Pull from here instead of the stored cursor (which then does not move)."""
    select: Callable[[Observation, bool], bool] | None = None
    """``(observation, delivered) -> planned?``: only these records are planned, the others
    are passed over untouched. ``delivered`` says the route already delivered the record."""
    enough: Callable[[], bool] | None = None
    """Asked after each page: True stops the pull there (a backfill's ``--limit``)."""
    adopt: Adoption | None = None
    """Records already in the target that a complaint may be linked to instead of created."""
    memo: bool = True
    """False maps every record (a backfill reads each once and needs every record's dates)."""
    before_create: Callable[[], None] | None = None
    """Called before each remote create (a rate limit)."""
    on_page: Callable[[CycleReport], None] | None = None
    """Called after each page (progress)."""
    keep_lines: bool = True
    linked_sync: bool = True
    """False skips follow-up and status work (a backfill only brings complaints over)."""
    respect_pause: bool = True
    """False runs even when a connector is paused (an admin at the keyboard wants to see)."""
    adopting: bool = False
    """A full pass that looks every new record up in the target before creating it (set on
    a route's first pass in a ledger, ``bridge.sync.adoption``; ``bridge ledger rebuild`` too)."""
    search_first: bool = False
    """Look every record up in the target by reference before creating it (set by the cycle
    for the records it fetches again: one held for a person or set aside may have waited
    across a lost or restored ledger, and its copy may be there from before)."""
    reverse_adopting: bool = False
    """A route the other way has not made its first pass yet (set by the cycle): records
    carrying a reference this ledger does not know wait for it (``bridge.sync.plan`` step 6)."""
    link_only: bool = False
    """Link the records the target already holds, create nothing, move no cursor (rebuild)."""
