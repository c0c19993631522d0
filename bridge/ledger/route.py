"""``RouteLedger``: one route's part of the ledger, with its names bound.

It implements ``RouteMemory`` (``bridge.ledger.memory``), what a cycle of one route
asks of the ledger: a view bound to the route's name, its source and target systems
and, for a fenced cycle, the lease it runs under, so the engine calls
``memory.cursor()`` or ``memory.quarantine(source_id, …)`` without passing names.

Fencing: with a ``fence``, every write (and ``check_fence``, ``still_holds``) runs
inside ``ledger.leases.fenced`` for that lease, so it fails with ``LeaseLost`` once
another replica took the route over (``bridge.ledger.leases``). Without one, writes
are fenced by whatever fence the process set for the route, as every ledger write is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bridge.health import ConnectorHealth, PausePolicy
from bridge.ledger.core import Ledger
from bridge.ledger.lease_rows import Fence
from bridge.ledger.memory import FollowupIds
from bridge.ledger.meta import ADOPTED_PREFIX
from bridge.ledger.types import (
    ComplaintState,
    ComplaintTrace,
    CreateIntent,
    CreateResult,
    FollowupInfo,
    LinkInfo,
    PendingInfo,
    SeenUpdate,
)


class RouteLedger:
    """``RouteMemory`` on a ``Ledger``: the route ``name`` from ``source`` to ``target``."""

    def __init__(
        self, ledger: Ledger, name: str, source: str, target: str, fence: Fence | None = None
    ) -> None:
        self.ledger = ledger
        self.name = name
        self.source = source
        self.target = target
        self.fence = fence
        self._registered = False
        # When this cycle began: a retry asked for after it was not tried by it.
        self._cycle_began: datetime | None = None

    def __repr__(self) -> str:
        return f"RouteLedger({self.name!r}: {self.source!r} → {self.target!r})"

    @contextmanager
    def _fenced(self) -> Iterator[None]:
        """The bound fence around one call; without one, the process's fence applies."""
        if self.fence is None:
            yield
            return
        with self.ledger.leases.fenced(self.fence.lease, self.fence.ttl):
            yield

    # the cycle

    def connector_health(self) -> list[ConnectorHealth]:
        """Failures and pauses of the route's source and target."""
        return self.ledger.health.listed([self.source, self.target])

    def note_connector_success(self, connectors: Sequence[str]) -> None:
        self.ledger.health.note_success(connectors)

    def note_connector_failure(
        self, connector: str, error: BaseException, policy: PausePolicy
    ) -> ConnectorHealth:
        return self.ledger.health.note_failure(connector, error, policy)

    def note_notices(self, system: str, texts: Sequence[str]) -> None:
        """What ``system``'s connector says now about its set-up (``ledger.notices``)."""
        self.ledger.notices.note(system, texts)

    def now(self) -> datetime:
        """The ledger's clock: the one leases are measured by."""
        return self.ledger.db.clock()

    def start_cycle(self) -> int:
        self.register()
        self._cycle_began = self.ledger.db.clock()
        return self.ledger.cycles.start(self.name)

    def register(self) -> None:
        """Name the route's systems in the ledger, once (``bridge.ledger.route_links``)."""
        if not self._registered:
            self.ledger.route_links.register([(self.name, self.source, self.target)])
            self._registered = True

    def finish_cycle(
        self, run_id: int, *, ok: bool, counts: Mapping[str, int], error: str | None
    ) -> None:
        self.ledger.cycles.finish(run_id, ok=ok, counts=counts, error=error)

    def cursor(self) -> str | None:
        """Where the route last stopped reading its source."""
        return self.ledger.cycles.cursor(self.name, self.source)

    def adopted(self, route: str | None = None) -> bool:
        """Has this route (or the route called ``route``) made a full pass in this ledger?"""
        return self.ledger.meta.get(ADOPTED_PREFIX + (route or self.name)) is not None

    def mark_adopted(self, at: datetime) -> None:
        """This route finished its first full pass over its source in this ledger."""
        self.ledger.meta.set(ADOPTED_PREFIX + self.name, at.isoformat())

    # links

    def count_source_links(self) -> int:
        return self.ledger.links.count(self.source)

    def links_for_source(self, source_ids: Sequence[str]) -> dict[str, LinkInfo]:
        # What this route saw of them: another route may read the same system.
        return self.ledger.links.by_remote(self.source, source_ids, route=self.name)

    def links_for_target(self, target_ids: Sequence[str]) -> dict[str, LinkInfo]:
        return self.ledger.links.by_remote(self.target, target_ids)

    def source_link(self, ref: str) -> LinkInfo | None:
        return self.ledger.links.of(ref, self.source)

    def target_link(self, ref: str) -> LinkInfo | None:
        return self.ledger.links.of(ref, self.target)

    # creates and pages

    def pending_creates(self, refs: Sequence[str] | None = None) -> dict[str, PendingInfo]:
        return self.ledger.creates.pending(self.name, self.target, refs)

    def record_intents(
        self, intents: Sequence[CreateIntent], *, sending: Sequence[str] = ()
    ) -> None:
        # The sending log starts over unless it may still tell what a gone holder sent.
        fresh = self.resend_wait() is None
        with self._fenced():
            self.ledger.creates.record_intents(self.name, intents, sending=sending, fresh_log=fresh)

    def starting_create(self, ref: str) -> None:
        self.ledger.creates.starting(self.name, ref)

    def never_started(self, pending: PendingInfo) -> bool:
        return self.ledger.creates.never_started(self.name, pending)

    def sending_create(self, ref: str) -> None:
        self.sending_creates([ref])

    def sending_creates(self, refs: Sequence[str]) -> None:
        with self._fenced():
            self.ledger.creates.sending_many(self.name, refs, self.target)

    def fail_create(self, ref: str, error: str) -> None:
        with self._fenced():
            self.ledger.creates.fail(self.name, ref, self.target, error)

    def complete_page(
        self,
        results: Sequence[CreateResult] = (),
        *,
        cursor: str | None = None,
        seen: Sequence[SeenUpdate] = (),
        released: Sequence[str] = (),
        owed: Sequence[str] = (),
    ) -> None:
        """One page's results, source observations, releases, owed work and cursor, at once.

        ``released`` and ``owed`` are source ids; ``cursor`` is the source's new cursor.
        """
        self.register()  # its new links get this route's rows
        with self._fenced():
            self.ledger.cycles.complete_page(
                self.name,
                results,
                cursor=None if cursor is None else (self.name, self.source, cursor),
                seen={self.source: seen},
                released=[(self.source, source_id) for source_id in released],
                owed=(self.source, owed) if owed else None,
            )

    # the quarantine

    def quarantined_ids(self) -> set[str]:
        return self.ledger.quarantine.ids(self.name, self.source)

    def quarantine_held(self) -> dict[str, str]:
        """Source id → masked record, for the route's records in quarantine, no retry asked."""
        return self.ledger.quarantine.held(self.name, self.source)

    def quarantine_to_retry(self) -> list[str]:
        return self.ledger.quarantine.to_retry(self.name, self.source)

    def quarantine(self, source_id: str, reason: str, field: str | None, record_json: str) -> None:
        with self._fenced():
            self.ledger.quarantine.add(
                self.name,
                self.source,
                source_id,
                reason,
                field,
                record_json,
                tried_since=self._cycle_began,
            )

    def retry_failed(self, source_id: str, reason: str) -> None:
        with self._fenced():
            self.ledger.quarantine.retry_failed(self.name, self.source, source_id, reason)

    # linked complaints

    def complaint_states(self, refs: Sequence[str]) -> dict[str, ComplaintState]:
        return self.ledger.statuses.of(refs)

    def record_status(
        self,
        ref: str,
        *,
        status: str,
        at: datetime,
        written: bool,
        raw_code: str | None = None,
        note: str | None = None,
    ) -> None:
        """The source set ``status`` at ``at``; ``written``: the bridge wrote it to the target."""
        with self._fenced():
            self.ledger.statuses.record(
                self.name,
                ref,
                status=status,
                at=at,
                system=self.source,
                written_to=self.target if written else None,
                raw_code=raw_code,
                note=note,
            )

    def record_decision(self, ref: str, kind: str, detail: Mapping[str, Any]) -> None:
        with self._fenced():
            self.ledger.history.record_decision(self.name, ref, kind, detail)

    def trace(self, ref: str) -> ComplaintTrace | None:
        """The complaint ``ref``'s whole story, or None when the ledger does not hold it."""
        return next((t for t in self.ledger.history.find(ref) if t.ref == ref), None)

    def flag_for_review(
        self, ref: str, system: str, kind: str, reason: str, detail: Mapping[str, Any]
    ) -> None:
        with self._fenced():
            self.ledger.reviews.flag(self.name, ref, system, kind, reason, detail)

    def followups_of(self, refs: Sequence[str]) -> dict[str, list[FollowupInfo]]:
        return self.ledger.followups.of(refs)

    def note_followups(self, ref: str, system: str, seen: FollowupIds) -> list[str]:
        return self.ledger.followups.note(ref, system, seen)

    def record_followup_intents(self, ref: str, fingerprints: Sequence[str]) -> None:
        with self._fenced():
            self.ledger.followups.record_intents(self.name, ref, fingerprints, self.target)

    def complete_followups(self, ref: str, results: FollowupIds) -> None:
        with self._fenced():
            self.ledger.followups.complete(self.name, ref, self.target, results)

    def fail_followup(self, ref: str, fingerprint: str, error: str) -> None:
        with self._fenced():
            self.ledger.followups.fail(self.name, ref, fingerprint, self.target, error)

    def due_for_poll(self, *, now: datetime, limit: int) -> list[LinkInfo]:
        """Source links due by ``now`` for this route, whose complaint the target holds too."""
        self.register()
        return self.ledger.route_links.due(
            self.name, self.source, self.target, now=now, limit=limit
        )

    def schedule_polls(self, schedule: Sequence[tuple[str, datetime | None]]) -> None:
        """(source id, next poll or None) for the route's source links."""
        self.ledger.route_links.schedule(self.name, self.source, schedule)

    # the lease

    def check_fence(self) -> None:
        with self._fenced():
            self.ledger.leases.check_fence(self.name)

    def still_holds(self) -> bool:
        with self._fenced():
            return self.ledger.leases.still_holds(self.name)

    def resend_wait(self) -> datetime | None:
        return self.ledger.leases.resend_wait(self.name)


if TYPE_CHECKING:
    from bridge.ledger.memory import RouteMemory

    # mypy proves here that RouteLedger has every method of RouteMemory, typed alike.
    _route_ledger_is_route_memory: type[RouteMemory] = RouteLedger
