"""The duplicate index and its decisions: ``ledger.duplicates``.

Per complaint: its normalised text, exact-text hash and keys (MinHash bands, hashed
reporter identifiers) in indexed tables, so a check reads a few index ranges and never
holds the corpus in memory (``bridge.dedup``). Per pair (a new record's reference, the
complaint it may duplicate): the decision, with its evidence, and for the review queue
the new record's normalised text. Every decision is also a line in the complaint's
history. A link is never a merge: ``split`` takes the record's link off the complaint
and asks its route to fetch it again, so it is delivered on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from bridge.dedup import Indexed, Probe
from bridge.dedup.reporter import REPORTER_KINDS
from bridge.ledger import route_links
from bridge.ledger.base import Database
from bridge.ledger.dup_candidates import candidates_query, utc
from bridge.ledger.events import add_events, event_key, event_row
from bridge.ledger.quarantine import set_aside
from bridge.ledger.sql import complaint_ids, upsert
from bridge.ledger.tables import COMPLAINT, DUP_ENTRY, DUP_KEY, DUP_PAIR, LINK, QUARANTINE
from bridge.ledger.types import SetAside

REVIEW, LINKED, NOT_DUPLICATE, SPLIT = "review", "linked", "not_duplicate", "split"


@dataclass(frozen=True)
class PairInfo:
    """One pair of the review queue or of the decisions taken."""

    id: int
    ref: str
    candidate: str
    route: str
    system: str
    source_id: str
    decision: str
    text: str
    candidate_text: str | None
    evidence: dict[str, Any]
    at: datetime


class Duplicates:
    """The duplicate index, its review queue and decisions (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def index(self, entries: Mapping[str, Probe]) -> None:
        """Index complaints (ref → probe) whose intent is recorded; again changes nothing."""
        with self._db.write() as session:
            ids = complaint_ids(session, list(entries))
            known = set(
                session.scalars(
                    select(DUP_ENTRY.c.complaint_id).where(
                        DUP_ENTRY.c.complaint_id.in_(list(ids.values()))
                    )
                )
            )
            for ref, cid in ids.items():
                if cid not in known:
                    _insert_entry(session, cid, entries[ref])

    def candidates(self, probe: Probe, *, system: str, cap: int) -> list[Indexed]:
        """Indexed complaints sharing the most keys with ``probe``, ``cap`` at most.

        The new record comes from ``system``: a complaint linked there already is marked
        ``own`` (one complaint has one record per system, so it is never linked to it).
        """
        keys = list(dict.fromkeys(probe.keys))
        if not keys:
            return []
        params: dict[str, object] = {f"k{i}": key for i, key in enumerate(keys)}
        params.update(cap=cap, system=system)
        rows = self._db.select(candidates_query(len(keys)), params)
        return [
            Indexed(
                row.ref,
                row.text,
                row.text_hash,
                utc(row.at),
                row.region,
                row.category,
                shared=row.shared,
                reporters=tuple(k for k in REPORTER_KINDS if getattr(row, k)),
                own=bool(row.own),
            )
            for row in rows
        ]

    def decisions(self, refs: Sequence[str]) -> dict[str, dict[str, str]]:
        """New record's ref → {candidate ref → decision} for the pairs decided or queued."""
        query = select(DUP_PAIR.c.ref, DUP_PAIR.c.candidate, DUP_PAIR.c.decision).where(
            DUP_PAIR.c.ref.in_(list(refs))
        )
        found: dict[str, dict[str, str]] = {}
        with self._db.read() as session:
            for ref, candidate, decision in session.execute(query):
                found.setdefault(ref, {})[candidate] = decision
        return found

    def record(
        self,
        route: str,
        system: str,
        source_id: str,
        ref: str,
        text: str,
        decision: str,
        evidence: Sequence[Mapping[str, Any]],
    ) -> None:
        """Queue pairs for review, or record an auto-link; each in the candidate's history."""
        now = self._db.clock()
        rows = [
            {
                "ref": ref,
                "candidate": e["candidate"],
                "route": route,
                "system": system,
                "source_id": source_id,
                "decision": decision,
                "text": text,
                "evidence": json.dumps(e, sort_keys=True),
                "at": now,
            }
            for e in evidence
        ]
        with self._db.write() as session:
            # A pair a person decided keeps that decision.
            upsert(
                session,
                DUP_PAIR,
                rows,
                keys=("ref", "candidate"),
                copy=("decision", "evidence", "at"),
                where=DUP_PAIR.c.decision == REVIEW,
            )
            _history(
                session,
                [e["candidate"] for e in evidence],
                route,
                system,
                f"duplicate.{decision}",
                {"source_id": source_id, "ref": ref},
                evidence,
                now,
            )

    def pairs(self, decision: str | None = REVIEW) -> list[PairInfo]:
        """The pairs with ``decision`` (all with None), oldest first, with both texts."""
        query = (
            select(DUP_PAIR, DUP_ENTRY.c.text.label("candidate_text"))
            .join(COMPLAINT, COMPLAINT.c.ref == DUP_PAIR.c.candidate, isouter=True)
            .join(DUP_ENTRY, DUP_ENTRY.c.complaint_id == COMPLAINT.c.id, isouter=True)
            .order_by(DUP_PAIR.c.at, DUP_PAIR.c.id)
        )
        if decision is not None:
            query = query.where(DUP_PAIR.c.decision == decision)
        with self._db.read() as session:
            return [_pair_info(row) for row in session.execute(query)]

    def pair(self, pair_id: int) -> PairInfo | None:
        return next((p for p in self.pairs(None) if p.id == pair_id), None)

    def decide(self, pair_id: int, decision: str, who: str) -> PairInfo:
        """A person's decision on a pair: ``linked``, ``not_duplicate`` or ``split``.

        The record is fetched again by its route's next cycle (a quarantine retry): a
        held record then takes the decision; a split one is delivered on its own.
        """
        pair = self.pair(pair_id)
        if pair is None:
            raise KeyError(pair_id)
        now = self._db.clock()
        with self._db.write() as session:
            session.execute(
                update(DUP_PAIR).where(DUP_PAIR.c.id == pair_id).values(decision=decision, at=now)
            )
            if decision == SPLIT:
                _unlink(session, pair)
            _fetch_again(session, pair, decision, now)
            _history(
                session,
                [pair.candidate],
                pair.route,
                pair.system,
                f"duplicate.{decision}",
                {"source_id": pair.source_id, "ref": pair.ref, "by": who},
                [pair.evidence],
                now,
            )
        return pair


def _insert_entry(session: Session, cid: int, probe: Probe) -> None:
    entry = {
        "complaint_id": cid,
        "text_hash": probe.text_hash,
        "text": probe.text,
        "at": probe.at,
        "region": probe.region,
        "category": probe.category,
    }
    entry_id = session.execute(insert(DUP_ENTRY).values(entry).returning(DUP_ENTRY.c.id)).scalar()
    keys = [{"key": key, "entry_id": entry_id} for key in dict.fromkeys(probe.keys)]
    session.execute(insert(DUP_KEY), keys)


def _unlink(session: Session, pair: PairInfo) -> None:
    """Take the record's link off the complaint it was linked to (nothing else of it)."""
    cid = complaint_ids(session, [pair.candidate]).get(pair.candidate)
    if cid is not None:
        route_links.forget(session, cid, pair.system)
        session.execute(
            delete(LINK).where(
                LINK.c.complaint_id == cid,
                LINK.c.system == pair.system,
                LINK.c.remote_id == pair.source_id,
            )
        )


def _fetch_again(session: Session, pair: PairInfo, decision: str, now: datetime) -> None:
    reason = f"duplicate decision taken ({decision}): fetched again on the route's next cycle"
    set_aside(session, pair.route, [SetAside(pair.system, pair.source_id, reason, None, "{}")], now)
    session.execute(
        update(QUARANTINE)
        .where(
            QUARANTINE.c.route == pair.route,
            QUARANTINE.c.system == pair.system,
            QUARANTINE.c.source_id == pair.source_id,
        )
        .values(retry_requested_at=now)
    )


def _history(
    session: Session,
    refs: Sequence[str],
    route: str,
    system: str,
    kind: str,
    about: Mapping[str, Any],
    evidence: Sequence[Mapping[str, Any]],
    now: datetime,
) -> None:
    ids = complaint_ids(session, list(refs))
    rows = []
    for ref, e in zip(refs, evidence, strict=True):
        if ref in ids:
            key = event_key(kind, system, str(about["source_id"]), now.isoformat())
            rows.append(event_row(ids[ref], key, now, route, kind, system, {**about, **e}))
    add_events(session, rows)


def _pair_info(row: Any) -> PairInfo:
    return PairInfo(
        id=row.id,
        ref=row.ref,
        candidate=row.candidate,
        route=row.route,
        system=row.system,
        source_id=row.source_id,
        decision=row.decision,
        text=row.text,
        candidate_text=row.candidate_text,
        evidence=json.loads(row.evidence),
        at=row.at,
    )
