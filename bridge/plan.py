"""Plan: observed source records + what the ledger remembers → the actions to take.

Pure and table-driven (vdirsyncer's ``_get_actions``): no I/O, no clock, no
randomness, so the decision table can be read against the spec and tested on its
own. ``bridge.engine`` carries the actions out.

For one record pulled from a route's source, the table is, in order:

1. the record could not be read (missing fields, bad date, unknown category)
   → ``SetAside`` with the reason; the rest of the page goes on;
2. the same source id already appeared earlier in this pull → ``Skip`` (duplicate);
3. it is already linked and the create finished → ``Skip`` when its content hash
   is unchanged, ``NoteChange`` when it changed (the ledger records the new hash);
4. a create was started for it but never confirmed (crash, lost response)
   → ``Resume``: look the target up by our reference before creating again —
   unless its last attempt is too recent for the target's search to show it yet
   → ``Skip`` that still owes work (the cursor waits for it);
   and a record that carries the reference of a complaint the ledger knows, but
   has not linked here, *is* that complaint's copy whose create answer was lost
   → ``AdoptCopy`` (creating it again in the other direction would double it);
5. it carries a bridge reference the ledger knows nothing of (the ledger was lost or
   replaced): while the route the other way has not made its first pass in this ledger,
   it may be a copy that route will link → ``Skip`` that waits (the cursor waits too);
   after that, a reference this installation made is the bridge's own copy of a complaint
   whose origin is elsewhere → ``Withhold``, never sent back;
6. it is confidential (*rahasia*) and the target is not marked to receive
   confidential complaints → ``Withhold``;
7. otherwise → ``Create`` (or ``Skip`` when the target takes no new complaints); while
   the route has not yet made one full pass over its source in this ledger (a new,
   lost or restored ledger), a ``Resume`` instead: the target may hold a copy made
   before, and it is looked up by reference first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any

from bridge.model import Complaint, carried_ref


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
    """False for a record recognised as unchanged without mapping it again (engine memo):
    the planner may only skip it; anything else needs it mapped first."""


@dataclass(frozen=True)
class KnownRecord:
    """What the ledger holds about a source record: its reference and last seen hash."""

    ref: str
    last_seen_hash: str | None


@dataclass(frozen=True)
class Create:
    ref: str
    observation: Observation


@dataclass(frozen=True)
class Resume:
    """A create that was started and never confirmed: find it by ``ref`` before re-creating."""

    ref: str
    observation: Observation


@dataclass(frozen=True)
class AdoptCopy:
    """This record is the bridge's own copy of complaint ``ref``; link it, create nothing."""

    ref: str
    observation: Observation


@dataclass(frozen=True)
class NoteChange:
    ref: str
    observation: Observation


@dataclass(frozen=True)
class Skip:
    source_id: str
    reason: str
    owed: bool = False
    """True when the record still needs work later: the page's cursor must not pass it."""
    kind: str = "skip"
    """The report line: ``skip``, ``waiting`` (a look-up not due yet) or ``deferred``."""


@dataclass(frozen=True)
class Withhold:
    """Deliberately not copied (a confidential complaint to a target not cleared for it)."""

    source_id: str
    reason: str


@dataclass(frozen=True)
class SetAside:
    observation: Observation
    reason: str
    field: str | None


Action = Create | Resume | AdoptCopy | NoteChange | Skip | Withhold | SetAside


@dataclass(frozen=True)
class PlanInput:
    """Everything the planner may look at for one page."""

    observations: Iterable[Observation]
    known: Mapping[str, KnownRecord]
    """Source id → ledger record, for source records the ledger already links."""
    pending_refs: Set[str]
    """References whose create was started and not confirmed."""
    target_receives_confidential: bool
    adoptable: Mapping[str, str]
    """Source id → ref, for unlinked records carrying the reference of a complaint we know."""
    make_ref: Callable[[str], str]
    """``source_id -> ref``; deterministic per source system (see ``bridge.model.make_ref``)."""
    target_can_create: bool = True
    """False for a target that takes no new complaints (only follow-ups and statuses)."""
    settling: Set[str] = frozenset()
    """Pending references whose last attempt is too recent to look up (a search index lags)."""
    adopting: bool = False
    """Look every new record up by reference before creating it (see step 7)."""
    own_ref: Callable[[str], bool] = lambda ref: False
    """True for a reference this installation made (``bridge.model.made_by``)."""
    reverse_adopting: bool = False
    """A route reading this route's target (into its source) has not made its first pass in
    this ledger yet: records carrying an unknown reference wait for it (step 5)."""


def plan(page: PlanInput) -> list[Action]:
    """Decide, for every observed record of one page, what to do. See the module docstring."""
    actions: list[Action] = []
    seen: set[str] = set()
    for observation in page.observations:
        actions.append(_decide(observation, page, seen))
        seen.add(observation.source_id)
    return actions


def _decide(observation: Observation, page: PlanInput, seen: set[str]) -> Action:
    # 1. Unreadable records are set aside; they never block the others.
    if observation.mapped and observation.complaint is None:
        reason = observation.problem or "the record could not be mapped"
        return SetAside(observation, reason, observation.problem_field)
    # 2. A system that lists the same id twice in one pull must not cause two creates.
    if observation.source_id in seen:
        return Skip(observation.source_id, "duplicate id in this pull")
    known = page.known.get(observation.source_id)
    ref = known.ref if known else page.make_ref(observation.source_id)
    # 4. Before anything else about a known record: an unconfirmed create is resumed.
    if ref in page.pending_refs and ref in page.settling:
        return Skip(observation.source_id, SETTLING, owed=True, kind="waiting")
    if ref in page.pending_refs:
        return Resume(ref, observation)
    adopt = page.adoptable.get(observation.source_id)
    if known is None and adopt is not None:
        return AdoptCopy(adopt, observation)
    # 3. Already linked and delivered.
    if known is not None and known.last_seen_hash == observation.seen_hash:
        return Skip(observation.source_id, "unchanged")
    if not observation.mapped:
        # Recognised without mapping, yet it needs more than a skip: the engine maps
        # it and plans again; this placeholder is never carried out.
        return Create(ref, observation)
    if known is not None:
        return NoteChange(ref, observation)
    assert observation.complaint is not None  # mapped, and not set aside at step 1
    # 5. A copy the bridge made, unknown to this ledger: creating it would send it back where
    # it came from. While the route that reads the target has not linked its records in
    # this ledger yet, any reference may be ours (older ones name no installation): wait.
    carried = carried_ref(observation.complaint)
    if carried is not None and carried != ref and page.reverse_adopting:
        return Skip(observation.source_id, DEFERRED, owed=True, kind="deferred")
    if carried is not None and carried != ref and page.own_ref(carried):
        return Withhold(observation.source_id, ORPHAN_COPY.format(ref=carried))
    # 6. Privacy: a rahasia complaint only goes where it is allowed to.
    if observation.complaint.is_secret and not page.target_receives_confidential:
        return Withhold(
            observation.source_id,
            "confidential complaint; the target is not marked receives_confidential",
        )
    # 7. Everything else is new to the target — if the target takes new complaints.
    if not page.target_can_create:
        return Skip(observation.source_id, "the target takes no new complaints")
    return Resume(ref, observation) if page.adopting else Create(ref, observation)


DEFERRED = (
    "carries a bridge reference this ledger does not know: it waits until the route the other "
    "way has linked its records in this ledger, as it may be a copy of one of them"
)

SETTLING = (
    "an earlier create is not confirmed yet; it is looked up once the target had time to show it"
)

ORPHAN_COPY = (
    "a copy the bridge made of complaint {ref}, which this ledger does not know (was the "
    "ledger lost or replaced?): not sent back where it came from. The route that made the "
    "copy links it again by that reference; if the original is gone, nothing is owed"
)
