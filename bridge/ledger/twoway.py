"""The ledger's part in two-way sync: follow-ups, status, review flags and re-polls.

Each method is one short transaction; every write is an upsert under a unique
constraint, so a retried call never adds a row twice (TRAPS.md). The decisions
(what to copy, which status wins, when to poll next) are the engine's; the
ledger records them and what came of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.ledger import followups, polls, reviews, states
from bridge.ledger.leases import LeaseLedger
from bridge.ledger.types import ComplaintState, FollowupInfo, LinkInfo, ReviewInfo


class TwoWayLedger(LeaseLedger):
    """What two-way sync remembers, on top of the identities kept by ``Ledger``.

    Writes that take a route are fenced by its lease (``bridge.ledger.leases``).
    """

    # follow-ups

    def followups_of(self, refs: Sequence[str]) -> dict[str, list[FollowupInfo]]:
        """ref → its follow-ups, first seen first; every asked ref is a key ([] if none)."""
        with self._read() as session:
            return followups.of_refs(session, refs)

    def note_followups(
        self, ref: str, system: str, seen: Sequence[tuple[str, str | None]]
    ) -> list[str]:
        """(fingerprint, remote id) seen on ``system`` are done there; returns the new ones.

        A fingerprint first seen here has ``system`` as its origin. Calling again with
        the same observations changes nothing and returns [].
        """
        with self._write() as session:
            return followups.note(session, ref, system, seen, self._clock())

    def record_followup_intents(
        self, route: str, ref: str, fingerprints: Sequence[str], target_system: str
    ) -> None:
        """Commit the intent to copy, before the remote call (a done copy stays done)."""
        with self._route_write(route) as session:
            followups.record_intents(
                session, route, ref, fingerprints, target_system, self._clock()
            )

    def complete_followups(
        self,
        route: str,
        ref: str,
        target_system: str,
        results: Sequence[tuple[str, str | None]],
    ) -> None:
        """(fingerprint, remote id or None) written to ``target_system``: those copies are done."""
        with self._route_write(route) as session:
            followups.complete(session, route, ref, target_system, results, self._clock())

    def fail_followup(
        self, route: str, ref: str, fingerprint: str, target_system: str, error: str
    ) -> None:
        """Remember why a copy failed; it stays started, to be looked up and retried."""
        with self._route_write(route) as session:
            followups.fail(session, route, ref, fingerprint, target_system, error, self._clock())

    def pending_followups(self, ref: str, target_system: str) -> list[str]:
        """Fingerprints whose copy to ``target_system`` was started and is not done."""
        with self._read() as session:
            return followups.pending(session, ref, target_system)

    # status

    def complaint_states(self, refs: Sequence[str]) -> dict[str, ComplaintState]:
        """ref → status, when it changed and who set it, for the refs the ledger knows."""
        with self._read() as session:
            return states.complaint_states(session, refs)

    def record_status(
        self,
        route: str,
        ref: str,
        *,
        status: str,
        at: datetime,
        system: str,
        written_to: str | None = None,
        raw_code: str | None = None,
        raw_label: str | None = None,
        note: str | None = None,
    ) -> None:
        """Set the complaint's status as of ``at`` (set by ``system``), with a history line.

        With ``written_to``, the bridge wrote the status there: that link's raw code
        and label become ``raw_code``/``raw_label``, so the write is not read back
        later as a change made on that system.
        """
        with self._route_write(route) as session:
            states.record_status(
                session,
                route,
                ref,
                status=status,
                at=at,
                system=system,
                written_to=written_to,
                raw=(raw_code, raw_label),
                note=note,
                now=self._clock(),
            )

    def record_decision(self, route: str, ref: str, kind: str, detail: Mapping[str, Any]) -> None:
        """A decision (``conflict.resolved``, ``status.ignored`` …) for ``bridge trace``."""
        with self._route_write(route) as session:
            states.record_decision(session, route, ref, kind, detail, self._clock())

    # review flags

    def flag_for_review(
        self,
        route: str,
        ref: str,
        system: str,
        kind: str,
        reason: str,
        detail: Mapping[str, Any],
    ) -> None:
        """Ask a person to look (``detail`` without personal data); again counts one more."""
        with self._route_write(route) as session:
            reviews.flag(session, route, ref, system, kind, reason, detail, self._clock())

    def reviews(
        self, route: str | None = None, *, include_resolved: bool = False
    ) -> list[ReviewInfo]:
        with self._read() as session:
            return reviews.listed(session, route, include_resolved)

    def resolve_review(self, route: str, ref: str, system: str, kind: str) -> None:
        with self._route_write(route) as session:
            reviews.resolve(session, route, ref, system, kind, self._clock())

    def review_items(self, ids: list[int]) -> list[ReviewInfo]:
        """The flags with these ids (open or resolved), in id order; unknown ids are left out."""
        with self._read() as session:
            return reviews.by_ids(session, ids)

    # re-polls

    def due_for_poll(
        self,
        system: str,
        *,
        now: datetime,
        limit: int,
        require_link_in: str | None = None,
    ) -> list[LinkInfo]:
        """Links of ``system`` due by ``now``, longest overdue first, at most ``limit``.

        With ``require_link_in``, only complaints also linked in that system.
        """
        with self._read() as session:
            return polls.due(session, system, now, limit, require_link_in)

    def schedule_polls(self, system: str, schedule: Sequence[tuple[str, datetime | None]]) -> None:
        """(remote id, next poll or None to stop polling) for links of ``system``; polled now."""
        with self._write() as session:
            polls.schedule(session, system, schedule, self._clock())
