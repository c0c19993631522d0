"""Plan: the facts observed about a page → the final action for each of its records.

Pure and table-driven (vdirsyncer's ``_get_actions``): no I/O, no clock, no
randomness. Everything it looks at was read beforehand by ``bridge.sync.observe``
(the ledger's links and pending creates, the target's copies found by reference,
whether the target's mapping can write the record), so each action is final:
``bridge.sync.act`` carries it out as planned, and a dry run prints it unchanged.

For one record pulled from a route's source, the table is, in evaluation order:

1. it is quarantined already and unchanged since → ``Skip`` (one attempt, not one per cycle);
2. the record could not be read (missing fields, bad date, unknown category)
   → ``Quarantine`` with the reason; the rest of the page goes on;
3. the same source id already appeared earlier in this pull → ``Skip`` (duplicate);
4. a create was started for it but never confirmed (crash, lost response) and its last
   attempt is too recent for the target's search to show it → ``Skip`` that still owes work
   (the cursor waits for it); otherwise it goes on at step 9, to be looked for first;
5. a record that carries the reference of a complaint the ledger knows, but has not
   linked here, *is* that complaint's copy whose create answer was lost → ``AdoptCopy``
   (creating it again in the other direction would double it);
6. already linked → ``Skip`` when its content hash is unchanged, ``NoteChange`` when it
   changed (the ledger records the new hash; ``bridge.sync.updates`` carries the change);
7. it carries a bridge reference the ledger knows nothing of (the ledger was lost or
   replaced): while the route the other way has not made its first pass in this ledger,
   it may be a copy that route will link → ``Skip`` that waits (the cursor waits too);
   after that, a reference this installation made is the bridge's own copy of a complaint
   whose origin is elsewhere → ``Withhold``, never sent back;
8. it is confidential (*rahasia*) and the target is not marked to receive confidential
   complaints → ``Withhold``; a target that takes no new complaints → ``Skip``;
9. it goes to the target, in this order: the target's mapping cannot write it →
   ``Quarantine``; an unconfirmed create in a target that cannot be searched by
   reference → ``Quarantine`` (a person checks: neither send it again nor drop it); a
   rebuild (``link_only``) → ``Link`` to the copy found, else ``NotFound``; a copy a
   backfill's or first pass's adoption offers → ``Link``, unless the target can be searched
   and may hold it (an unconfirmed create, or a first pass) → ``Create``, searched for by
   reference just before it is sent, linked to what the search or else the adoption finds;
   otherwise → ``Create``;
10. before that create, the duplicate check (``bridge.sync.duplicates``, when the route
   has it on; never for an unconfirmed create, a rebuild or a copy already found): a
   verdict to link (an exact normalised text, the same hashed reporter and similar text,
   or a person's ``link``) → ``LinkDuplicate`` to the existing complaint, nothing
   created (a second record of the page for the same complaint is held instead: a
   complaint holds one record per system); a verdict in the grey band → ``HoldDuplicate``,
   set aside for ``bridge review`` with the evidence. A new record that copies another
   create of the same page (``bridge.dedup.page``: neither is indexed yet) → ``Skip`` that
   waits (the cursor waits too): the next cycle checks it against the index, where the
   first is by then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bridge.dedup import Evidence, Probe
from bridge.dedup.page import page_twin
from bridge.model import carried_ref
from bridge.sync.adoption import Found
from bridge.sync.facts import Facts, Observation
from bridge.sync.outgoing import Outgoing, Unwritable


@dataclass(frozen=True)
class Create:
    """Send the complaint to the target (``resend``: an earlier create was not found there)."""

    ref: str
    observation: Observation
    outgoing: Outgoing
    resend: bool = False
    search_first: bool = False
    """The target may hold it already (an unconfirmed create, or a first pass in this ledger):
    it is searched by reference just before it is sent, and linked if found
    (``bridge.sync.act.settle``, which the dry run applies too)."""
    adopt: Found | None = None
    """A copy an adoption offers, linked when the search finds none."""
    probe: Probe | None = None
    """What the duplicate index keeps of it (``bridge.sync.duplicates``), when the check is on."""


@dataclass(frozen=True)
class LinkDuplicate:
    """The record duplicates complaint ``ref`` (another door's, or LAPOR!'s): link it there."""

    ref: str
    own_ref: str
    """The reference the record would have had on its own (the pair's key)."""
    observation: Observation
    evidence: Evidence
    text: str


@dataclass(frozen=True)
class HoldDuplicate:
    """The record may duplicate ``candidates``: set aside until a person decides."""

    ref: str
    observation: Observation
    candidates: tuple[Evidence, ...]
    text: str

    @property
    def reason(self) -> str:
        best = self.candidates[0]
        return POSSIBLE_DUPLICATE.format(ref=best.ref, score=round(best.score))


@dataclass(frozen=True)
class Link:
    """The target holds this complaint already (``found.target_id``): link it, send nothing."""

    ref: str
    observation: Observation
    outgoing: Outgoing
    found: Found

    @property
    def target_id(self) -> str:
        return self.found.target_id


@dataclass(frozen=True)
class NotFound:
    """A rebuild found no copy in the target: nothing is written; the daemon sends it later."""

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
class Quarantine:
    """Set the record aside with its reason, for a person (``bridge quarantine``)."""

    observation: Observation
    reason: str
    field: str | None = None


Action = (
    Create
    | Link
    | NotFound
    | AdoptCopy
    | NoteChange
    | Skip
    | Withhold
    | Quarantine
    | LinkDuplicate
    | HoldDuplicate
)
Sends = Create | Link
"""The actions whose intent is committed before the target is written (``bridge.sync.act``)."""


@dataclass(frozen=True)
class ToTarget:
    """A record whose decision reached step 9: what the target holds of it decides the rest."""

    observation: Observation
    ref: str
    pending: bool
    """An earlier create of it was started and never confirmed."""


def plan(facts: Facts) -> list[Action]:
    """Decide, for every observed record of one page, what to do. See the module docstring."""
    actions: list[Action] = []
    seen: set[str] = set()
    taken: set[str] = set()  # target records linked on this page: each to one complaint only
    joined: set[str] = set()  # complaints a duplicate joins on this page: one record each
    created: list[tuple[str, Probe]] = []  # the page's checked creates: a copy of one waits
    for observation in facts.observations:
        step = _decide(observation, facts, seen)
        action = _to_target(step, facts, taken) if isinstance(step, ToTarget) else step
        if isinstance(action, LinkDuplicate):
            if action.ref in joined:  # a complaint holds one record per system: a person decides
                e = replace(action.evidence, same_system=True)  # it will hold the first one
                action = HoldDuplicate(action.own_ref, action.observation, (e,), action.text)
            else:
                joined.add(action.ref)
        elif isinstance(action, Link):
            taken.add(action.target_id)
        elif isinstance(action, Create) and action.adopt is not None:
            taken.add(action.adopt.target_id)
        elif isinstance(action, Create):
            action = _unless_page_copy(action, facts, created)
        actions.append(action)
        seen.add(observation.source_id)
    return actions


def bound_for_target(facts: Facts) -> list[ToTarget]:
    """The records whose decision reaches step 9, given every fact but what the target holds.

    ``bridge.sync.observe`` asks before it reads the target, so only these cost a search
    there: a record the plan skips, withholds or quarantines earlier costs none.
    """
    bound = []
    seen: set[str] = set()
    for observation in facts.observations:
        if isinstance(step := _decide(observation, facts, seen), ToTarget):
            bound.append(step)
        seen.add(observation.source_id)
    return bound


def _decide(observation: Observation, facts: Facts, seen: set[str]) -> Action | ToTarget:
    source_id = observation.source_id
    # 1. A record the target refused stays quarantined until it changes, or a person asks.
    if source_id in facts.quarantined_unchanged:
        return Skip(source_id, QUARANTINED_UNCHANGED)
    # 2. Unreadable records are quarantined; they never block the others.
    if observation.complaint is None and observation.mapped:
        reason = observation.problem or "the record could not be mapped"
        return Quarantine(observation, reason, observation.problem_field)
    # 3. A system that lists the same id twice in one pull must not cause two creates.
    if source_id in seen:
        return Skip(source_id, "duplicate id in this pull")
    known = facts.known.get(source_id)
    ref = facts.refs[source_id]
    # 4. An unconfirmed create is looked for first (step 9), once the target can show it.
    if ref in facts.pending_refs:
        if ref in facts.settling:
            return Skip(source_id, SETTLING, owed=True, kind="waiting")
        return ToTarget(observation, ref, pending=True)
    # 5. Our own copy whose create answer was lost: link it.
    adopt = facts.adoptable.get(source_id)
    if known is None and adopt is not None:
        return AdoptCopy(adopt, observation)
    # 6. Already linked and delivered.
    if known is not None:
        if known.last_seen_hash == observation.seen_hash:
            return Skip(source_id, "unchanged")
        return NoteChange(ref, observation)
    complaint = observation.complaint
    assert complaint is not None  # observe maps every record that needs more than a skip
    # 7. A copy the bridge made, unknown to this ledger: creating it would send it back where
    # it came from. While the route that reads the target has not linked its records in
    # this ledger yet, any reference may be ours (older ones name no installation): wait.
    carried = carried_ref(complaint)
    if carried is not None and carried != ref:
        if facts.reverse_adopting:
            return Skip(source_id, DEFERRED, owed=True, kind="deferred")
        if facts.own_ref(carried):
            return Withhold(source_id, ORPHAN_COPY.format(ref=carried))
    # 8. Privacy first; then whether the target takes new complaints at all.
    if complaint.is_secret and not facts.target_receives_confidential:
        return Withhold(source_id, CONFIDENTIAL)
    if not facts.target_can_create:
        return Skip(source_id, "the target takes no new complaints")
    return ToTarget(observation, ref, pending=False)


def _to_target(step: ToTarget, facts: Facts, taken: set[str]) -> Action:
    # 9. The record goes to the target: linked to a copy it holds, or as a new complaint.
    observation, ref, pending = step.observation, step.ref, step.pending
    source_id = observation.source_id
    outgoing = facts.outgoing[source_id]
    if isinstance(outgoing, Unwritable):  # the target's mapping cannot write it
        return Quarantine(observation, outgoing.reason, outgoing.field)
    if pending and not facts.target_can_find_by_ref:
        # Neither send it again (it may be there) nor drop it (it may not): a person decides.
        return Quarantine(observation, UNCONFIRMED.format(target=facts.target))
    found = [f for f in facts.found.get(source_id, ()) if f.target_id not in taken]
    offered = next((f for f in found if f.conflict is None), None)
    if offered is None and found and found[0].conflict is not None:
        # Same text, another reporter or other privacy flags: a person decides (backfill).
        return Quarantine(observation, found[0].conflict)
    if facts.link_only:  # a rebuild: observe searched the target already
        return Link(ref, observation, outgoing, offered) if offered else NotFound(ref, observation)
    search = facts.target_can_find_by_ref and (pending or facts.first_pass)
    if offered is not None and not search:
        return Link(ref, observation, outgoing, offered)
    probe = facts.probes.get(source_id)
    # 10. A new complaint another door (or LAPOR!) brought already: linked, or a person asked.
    verdict = facts.duplicates.get(source_id)
    if verdict is not None and probe is not None and offered is None and not pending:
        if verdict.link is not None:
            return LinkDuplicate(verdict.link.ref, ref, observation, verdict.link, probe.text)
        if verdict.review:
            return HoldDuplicate(ref, observation, verdict.review, probe.text)
    return Create(
        ref, observation, outgoing, resend=pending, search_first=search, adopt=offered, probe=probe
    )


def _unless_page_copy(action: Create, facts: Facts, created: list[tuple[str, Probe]]) -> Action:
    # 10. Two copies on one page: neither is indexed yet, so both would be created.
    rules, probe, source_id = facts.duplicate_rules, action.probe, action.observation.source_id
    if rules is None or probe is None or action.resend or source_id not in facts.duplicates:
        return action  # not checked (the check is off, or this create is not a new one)
    verdict = page_twin(probe, created, rules)
    twin = verdict.link or next(iter(verdict.review), None)
    if twin is None:
        created.append((action.ref, probe))
        return action
    return Skip(source_id, PAGE_COPY.format(ref=twin.ref), owed=True, kind="deferred")


QUARANTINED_UNCHANGED = "quarantined earlier and unchanged since; see `bridge quarantine show`"

CONFIDENTIAL = "confidential complaint; the target is not marked receives_confidential"

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

POSSIBLE_DUPLICATE = (
    "may duplicate complaint {ref} (text similarity {score}): held for a person, see "
    "`bridge review duplicates`"
)

PAGE_COPY = (
    "may copy complaint {ref}, new on this same page: it waits for the next cycle, which "
    "checks it against the duplicate index once {ref} is created there"
)

UNCONFIRMED = (
    "an earlier create in {target} was never confirmed and {target} cannot be searched by "
    "reference: check {target} by hand before this complaint is sent again"
)
