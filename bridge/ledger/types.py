"""The small frozen values the ledger takes and returns. Plain data, no I/O.

Every ``datetime`` here is timezone-aware UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

CREATE = "create"
PENDING_STARTED = "started"
PENDING_DONE = "done"
PENDING_FAILED = "failed"
COPY_STARTED = "started"
COPY_DONE = "done"


@dataclass(frozen=True, slots=True)
class CreateIntent:
    """The engine is about to create ``ref`` (first seen as ``origin_id``) in ``target_system``."""

    ref: str
    origin_system: str
    origin_id: str
    source_hash: str
    target_system: str
    raw_status_code: str | None = None
    raw_status_label: str | None = None
    status: str | None = None
    personal: tuple[str, ...] = ()
    """Names (never values) of the personal fields the outgoing copy carries."""
    anonymous: bool = False
    """The complaint is anonim: it leaves with the reporter's identity removed."""
    secret: bool = False
    """The complaint is rahasia (only a target marked ``receives_confidential`` gets it)."""
    ticket: str | None = None


@dataclass(frozen=True, slots=True)
class CreateResult:
    """The remote create for ``ref`` answered ``remote_id`` (or an earlier create was adopted)."""

    ref: str
    target_system: str
    remote_id: str
    target_hash: str
    adopted: bool = False
    identity_sent: tuple[str, ...] = ()
    """The target's fields that carried the reporter's identity in this copy (names only)."""


@dataclass(frozen=True, slots=True)
class SeenUpdate:
    """What a pull saw of an already linked record. ``status`` (normalised) is optional."""

    remote_id: str
    content_hash: str
    raw_status_code: str | None = None
    raw_status_label: str | None = None
    status: str | None = None
    ticket: str | None = None


@dataclass(frozen=True, slots=True)
class SetAside:
    """A record to quarantine as part of ``ledger.cycles.complete_page``."""

    system: str
    source_id: str
    reason: str
    field: str | None
    record_json: str


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """One complaint's record in one system, with what the bridge last saw and wrote there."""

    ref: str
    system: str
    remote_id: str
    origin_system: str
    origin_id: str
    status: str | None
    last_seen_hash: str | None
    last_written_hash: str | None
    raw_status_code: str | None
    raw_status_label: str | None
    seen_at: datetime | None
    updated_at: datetime
    next_poll_at: datetime | None = None
    polled_at: datetime | None = None
    # Lets the engine poll older complaints less often without a second query.
    complaint_created_at: datetime | None = None
    ticket: str | None = None


@dataclass(frozen=True, slots=True)
class FollowupCopyInfo:
    """A follow-up in one system: ``done`` once seen or written there, ``started`` meanwhile."""

    system: str
    remote_id: str | None
    state: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class FollowupInfo:
    """One follow-up of a complaint, where it came from, and its copy in each system."""

    fingerprint: str
    origin_system: str
    origin_id: str | None
    created_at: datetime
    copies: Mapping[str, FollowupCopyInfo]


@dataclass(frozen=True, slots=True)
class ComplaintState:
    """A complaint's normalised status, when it last changed and which system set it."""

    ref: str
    status: str | None
    status_at: datetime | None
    status_system: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    """Something a person must look at; ``detail`` is JSON text (no personal data)."""

    id: int
    route: str
    ref: str
    system: str
    kind: str
    reason: str
    detail: str
    first_seen: datetime
    last_seen: datetime
    count: int
    resolved: bool

    def data(self) -> dict[str, object]:
        """``detail`` decoded."""
        decoded: dict[str, object] = json.loads(self.detail)
        return decoded


@dataclass(frozen=True, slots=True)
class EventInfo:
    """One line of a complaint's history. ``detail`` is JSON text (no personal data)."""

    at: datetime
    kind: str
    route: str | None
    system: str | None
    detail: str

    def data(self) -> dict[str, object]:
        """``detail`` decoded."""
        decoded: dict[str, object] = json.loads(self.detail)
        return decoded


@dataclass(frozen=True, slots=True)
class ComplaintTrace:
    """Everything the ledger knows about one complaint, history in time order."""

    ref: str
    origin_system: str
    origin_id: str
    created_at: datetime
    status: str | None
    links: tuple[LinkInfo, ...]
    events: tuple[EventInfo, ...]
    followups: tuple[FollowupInfo, ...] = ()
    status_at: datetime | None = None
    status_system: str | None = None


@dataclass(frozen=True, slots=True)
class PendingInfo:
    """A create whose intent is recorded and whose outcome is not (yet) known."""

    ref: str
    route: str
    origin_system: str
    origin_id: str
    target_system: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None
    """When the remote create was last about to be sent; None if it never was."""


@dataclass(frozen=True, slots=True)
class QuarantineInfo:
    """A record set aside, with why, how often, and its masked native form."""

    id: int
    route: str
    system: str
    source_id: str
    reason: str
    field: str | None
    attempts: int
    record_json: str
    first_seen: datetime
    last_seen: datetime
    retry_requested_at: datetime | None = None
    """When ``bridge quarantine retry`` asked for it; None once it was tried again."""


@dataclass(frozen=True, slots=True)
class CycleInfo:
    """One cycle run of a route."""

    run_id: int
    started_at: datetime
    finished_at: datetime | None
    ok: bool | None
    counts: Mapping[str, int]
    error: str | None


@dataclass(frozen=True, slots=True)
class RouteStatus:
    """What ``bridge status`` shows for one route."""

    route: str
    last_cycle: CycleInfo | None
    last_success_at: datetime | None
    linked: int
    pending_creates: int
    quarantined: int
    cursors: Mapping[str, str] = field(default_factory=dict)
    reviews: int = 0

    def lag(self, now: datetime | None = None) -> timedelta | None:
        """How long ago the last successful cycle finished; None if none ever did."""
        if self.last_success_at is None:
            return None
        return (now or datetime.now(UTC)) - self.last_success_at

    def lag_text(self, now: datetime | None = None) -> str:
        """``lag`` for people: "never", "40s", "12m", "3h 5m", "2d 4h"."""
        lag = self.lag(now)
        if lag is None:
            return "never"
        seconds = max(0, int(lag.total_seconds()))
        days, rest = divmod(seconds, 86_400)
        hours, rest = divmod(rest, 3_600)
        minutes, seconds = divmod(rest, 60)
        if days:
            return f"{days}d {hours}h"
        if hours:
            return f"{hours}h {minutes}m"
        return f"{minutes}m" if minutes else f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Lease:
    """``holder`` runs ``route`` under ``run_number`` until ``expires_at``, unless it renews.

    The run number is the fence: it moves on at every takeover, so a replica whose
    lease expired can tell, before it writes, that someone else runs the route now.
    """

    route: str
    holder: str
    run_number: int
    expires_at: datetime
    predecessor_until: datetime | None = None
    """Taken over early from a gone holder: when that holder's lease would have expired."""


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    """A route's lease as ``bridge status`` shows it; ``holder`` is None if never claimed."""

    route: str
    holder: str | None
    run_number: int
    expires_at: datetime | None
    renewed_at: datetime | None
    holder_identity: str | None = None
    """What proves where the holder runs (``bridge.ledger.lease_rows.holder_identity``)."""

    def is_free(self, now: datetime) -> bool:
        """True when no replica holds the route at ``now`` (never claimed, released or expired)."""
        return self.holder is None or self.expires_at is None or self.expires_at <= now
