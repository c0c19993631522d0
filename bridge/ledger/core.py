"""The ``Ledger``: the bridge's memory, one short transaction per call.

Writes that belong together (a page's created links, what was seen, what was set
aside, and the cursor past them) go through ``complete_page`` in one transaction,
so the cursor never moves past a result the ledger does not hold (TRAPS.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sqlalchemy import insert, update

from bridge.ledger import creates, meta, polls, reads, writes
from bridge.ledger.base import Clock, utc_now
from bridge.ledger.health import HealthLedger
from bridge.ledger.meta import MetaLedger
from bridge.ledger.quarantine import QuarantineLedger
from bridge.ledger.sql import storable
from bridge.ledger.systems import SystemsLedger
from bridge.ledger.tables import CYCLE_RUN
from bridge.ledger.twoway import TwoWayLedger
from bridge.ledger.types import (
    ComplaintTrace,
    CreateIntent,
    CreateResult,
    LinkInfo,
    PendingInfo,
    QuarantineInfo,
    RouteStatus,
    SeenUpdate,
    SetAside,
)

__all__ = ["Clock", "Ledger", "utc_now"]


class Ledger(TwoWayLedger, HealthLedger, QuarantineLedger, SystemsLedger, MetaLedger):
    """Identity, cursors, pending creates, quarantine and history of every route.

    The two-way part (follow-ups, status, review flags, re-polls) and route leases
    (``bridge.ledger.leases``: the writes below that take a route are fenced by its
    lease inside ``Ledger.fenced``) are inherited from ``TwoWayLedger``, connector
    pauses from ``HealthLedger``, the quarantine's retries from ``QuarantineLedger``,
    system names and renaming one from ``SystemsLedger``, its own identity (id,
    generation) and other ``ledger_meta`` keys from ``MetaLedger``; opening, closing
    and transactions from ``LedgerBase``.
    """

    # identity

    def links_for(self, system: str, remote_ids: Sequence[str]) -> dict[str, LinkInfo]:
        """remote id → link, for those of ``remote_ids`` the ledger knows in ``system``."""
        with self._read() as session:
            return reads.links_for(session, system, remote_ids)

    def link_of(self, ref: str, system: str) -> LinkInfo | None:
        with self._read() as session:
            return reads.link_of(session, ref, system)

    def find(self, any_id: str) -> list[ComplaintTrace]:
        """Complaints whose ref, or whose id in any system, is ``any_id``."""
        with self._read() as session:
            return reads.find(session, any_id)

    # pending creates

    def record_intents(self, route: str, intents: Sequence[CreateIntent]) -> None:
        """Commit the intent to create, before the remote call (never two LAPOR! complaints)."""
        with self._route_write(route) as session:
            creates.record_intents(session, route, intents, self._clock())

    def pending_creates(
        self, route: str, target_system: str, refs: Sequence[str] | None = None
    ) -> dict[str, PendingInfo]:
        """ref → started create whose outcome is unknown (to look up before re-creating)."""
        with self._read() as session:
            return reads.pending_creates(session, route, target_system, refs)

    def sending_create(self, route: str, ref: str, target_system: str) -> None:
        """Note, right before the remote create, that it is sent now; fenced and renewing.

        Inside a fenced cycle this is the check before a remote create: ``LeaseLost``
        if the route was taken over, else the lease is renewed for a whole TTL
        (``bridge.ledger.leases``).
        """
        with self._route_write(route, renew=True) as session:
            creates.mark_sent(session, ref, target_system, self._clock())

    def complete_creates(self, route: str, results: Sequence[CreateResult]) -> None:
        with self._route_write(route) as session:
            creates.complete_creates(session, route, results, self._clock())

    def fail_create(self, route: str, ref: str, target_system: str, error: str) -> None:
        with self._route_write(route) as session:
            creates.fail_create(session, route, ref, target_system, error, self._clock())

    # observations, cursors, whole pages

    def note_seen(self, system: str, updates: Sequence[SeenUpdate]) -> None:
        with self._write() as session:
            writes.note_seen(session, system, updates, self._clock())

    def get_cursor(self, route: str, system: str) -> str | None:
        with self._read() as session:
            return reads.get_cursor(session, route, system)

    def set_cursor(self, route: str, system: str, value: str) -> None:
        with self._route_write(route) as session:
            writes.set_cursor(session, route, system, value, self._clock())

    def complete_page(
        self,
        route: str,
        results: Sequence[CreateResult] = (),
        cursor: tuple[str, str, str] | None = None,
        seen: Mapping[str, Sequence[SeenUpdate]] | None = None,
        set_aside: Sequence[SetAside] = (),
        released: Sequence[tuple[str, str]] = (),
        owed: tuple[str, Sequence[str]] | None = None,
    ) -> None:
        """Everything one page produced, in one transaction.

        ``cursor`` is ``(route, system, value)`` as for ``set_cursor``; ``seen`` maps a
        system to what was seen there; ``released`` lists ``(system, source_id)``
        taken out of quarantine; ``owed`` is ``(system, remote ids)`` whose change is
        yet to be carried over (follow-ups, status): they become due for a re-poll.
        """
        now = self._clock()
        with self._route_write(route) as session:
            creates.complete_creates(session, route, results, now)
            for system, updates in (seen or {}).items():
                writes.note_seen(session, system, updates, now)
            writes.set_aside(session, route, set_aside, now)
            writes.release(session, route, released)
            if cursor is not None:
                cursor_route, system, value = cursor
                writes.set_cursor(session, cursor_route, system, value, now)
            if owed is not None:
                polls.owe(session, owed[0], owed[1])

    # quarantine

    def set_aside(
        self,
        route: str,
        system: str,
        source_id: str,
        reason: str,
        field: str | None,
        record_json: str,
    ) -> None:
        """Quarantine a record (already masked by the caller); again counts one more attempt."""
        item = SetAside(system, source_id, reason, field, record_json)
        with self._route_write(route) as session:
            writes.set_aside(session, route, [item], self._clock())

    def release(self, route: str, system: str, source_id: str) -> None:
        with self._route_write(route) as session:
            writes.release(session, route, [(system, source_id)])

    def quarantined(self, route: str | None = None) -> list[QuarantineInfo]:
        with self._read() as session:
            return reads.quarantined(session, route)

    def quarantined_ids(self, route: str, system: str) -> set[str]:
        with self._read() as session:
            return reads.quarantined_ids(session, route, system)

    # cycles and status

    def start_cycle(self, route: str) -> int:
        """Record a cycle's start and count one more generation, in one transaction."""
        row = {"route": route, "started_at": self._clock(), "counts": "{}"}
        with self._write() as session:
            run_id: int = session.execute(
                insert(CYCLE_RUN).values(row).returning(CYCLE_RUN.c.id)
            ).scalar_one()
            seen = meta.next_generation(session)
        # After the commit: what is reported to the watcher is in the ledger for good.
        if self._cycle_watcher is not None:
            self._cycle_watcher(seen)
        return run_id

    def finish_cycle(
        self, run_id: int, *, ok: bool, counts: Mapping[str, int], error: str | None
    ) -> None:
        values = {
            "finished_at": self._clock(),
            "ok": ok,
            "counts": json.dumps(dict(counts), sort_keys=True),
            "error": None if error is None else storable(error),
        }
        with self._write() as session:
            session.execute(update(CYCLE_RUN).where(CYCLE_RUN.c.id == run_id).values(values))

    def route_status(self, route: str) -> RouteStatus:
        with self._read() as session:
            return reads.route_status(session, route)

    def routes(self) -> list[str]:
        with self._read() as session:
            return reads.routes(session)

    def count_links(self, system: str) -> int:
        with self._read() as session:
            return reads.count_links(session, system)
