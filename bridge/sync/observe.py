"""Observe: a page of native records → the facts the planner decides on.

Everything here only reads: the source page is mapped (or recognised unchanged from the
route's memo), and for its records the ledger is asked what it remembers (links, creates
started and not confirmed, quarantined copies). Then, for the records whose decision
reaches the target (``bridge.sync.plan.bound_for_target``: the decision table itself,
run on what is known so far), the copies the target already holds are matched (by a
backfill's or first pass's adoption; in a rebuild, searched by reference), and their outgoing
form is built, or the reason the target's mapping cannot write it. ``bridge.sync.plan``
then decides without I/O, and a dry run reads exactly what a real run reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bridge import storable
from bridge.connector import NativeRecord
from bridge.errors import RecordError
from bridge.model import carried_ref, change_hash, made_by
from bridge.model import make_ref as reference
from bridge.privacy import confidential_stub, redact_record
from bridge.privacy.retention import same_record
from bridge.sync.adoption import Found, natural_key_text
from bridge.sync.adoption_who import who_of
from bridge.sync.duplicates import look_for_duplicates
from bridge.sync.facts import Facts, KnownRecord, Observation
from bridge.sync.outgoing import outgoing
from bridge.sync.plan import ToTarget, bound_for_target
from bridge.sync.route import CycleOptions, Route


def observe(
    route: Route,
    page: Sequence[NativeRecord],
    options: CycleOptions,
    quarantined: Mapping[str, str],
) -> Facts:
    """The facts about one source page; ``quarantined`` maps source id → stored record."""
    observations = listed = [_remembered(route, native, options.memo) for native in page]
    known = _known(route, [o.source_id for o in observations])
    refs = {o.source_id: _ref(route, o.source_id, known) for o in observations}
    pending = route.memory.pending_creates(list(refs.values()))
    observations = [
        o if o.mapped or _unchanged(o, known, pending) else _map(route, dict(o.native))
        for o in observations
    ]
    if options.select is not None:
        delivered = {sid for sid, k in known.items() if k.ref not in pending}
        observations = [o for o in observations if options.select(o, o.source_id in delivered)]
    settled_before = route.clock() - route.settle
    facts = Facts(
        observations=observations,
        known=known,
        pending_refs=set(pending),
        refs=refs,
        target=route.target.name,
        target_receives_confidential=route.target.receives_confidential,
        target_can_create=route.target.can_create,
        target_can_find_by_ref=route.target.can_find_by_ref,
        settling={ref for ref, p in pending.items() if p.updated_at > settled_before},
        adoptable=_adoptable(route, observations, known),
        quarantined_unchanged=_quarantined_unchanged(observations, quarantined),
        own_ref=lambda ref: made_by(ref, route.installation),
        reverse_adopting=options.reverse_adopting,
        first_pass=options.adopting or options.search_first,
        link_only=options.link_only,
        listed=listed,
    )
    # What the target holds matters only for the records the plan would send there.
    bound = bound_for_target(facts)
    found = _found(route, bound, options)
    # Only new records are checked for duplicates, and not in a rebuild (it creates nothing).
    checked = {
        s.observation.source_id: not (
            s.pending or options.link_only or s.observation.source_id in found
        )
        for s in bound
    }
    duplicates, probes = look_for_duplicates(route, bound, checked)
    return dataclasses.replace(
        facts,
        outgoing={
            s.observation.source_id: outgoing(route, s.observation.complaint, s.ref) for s in bound
        },
        found=found,
        duplicates=duplicates,
        probes=probes,
        duplicate_rules=route.duplicates,
    )


# ASCII escapes: a record may hold a lone surrogate (a JSON "\ud800"), which cannot
# be encoded for the memo's digest nor stored in PostgreSQL as text. Built once:
# ``json.dumps`` with options builds an encoder for every record (a quarter of its time).
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=True, default=str)


def dump(record: Mapping[str, Any]) -> str:
    """A record as canonical JSON: the memo's digest, and the quarantine's stored copy."""
    return _CANONICAL.encode(record)


def _quarantined_unchanged(
    observations: Sequence[Observation], quarantined: Mapping[str, str]
) -> set[str]:
    """Quarantined records unchanged since (TRAPS.md: a few always-failing records must not
    cost a create attempt every cycle, nor starve the rest).

    A record comes back as soon as it changes in its source, or when a person asks
    (``bridge quarantine retry``). The stored copy is masked with a per-process key,
    so each start of the bridge also tries every quarantined record once more.
    """
    return {
        o.source_id
        for o in observations
        if (stored := quarantined.get(o.source_id)) is not None
        and any(same_record(stored, copy) for copy in (dump(redact_record(o.native)), _stub(o)))
    }


def _stub(observation: Observation) -> str:
    # A rahasia record is set aside as a stub (bridge.sync.quarantine.stored_copy).
    return dump(confidential_stub(observation.native, observation.source_id))


def _known(route: Route, ids: Sequence[str]) -> dict[str, KnownRecord]:
    links = route.memory.links_for_source(ids)
    return {sid: KnownRecord(link.ref, link.last_seen_hash) for sid, link in links.items()}


def _ref(route: Route, source_id: str, known: Mapping[str, KnownRecord]) -> str:
    record = known.get(source_id)
    return record.ref if record else reference(route.source.name, source_id, route.installation)


def _unchanged(
    o: Observation, known: Mapping[str, KnownRecord], pending: Mapping[str, Any]
) -> bool:
    """Recognised from the memo, linked, delivered and unchanged: nothing to map again."""
    record = known.get(o.source_id)
    return record is not None and record.ref not in pending and record.last_seen_hash == o.seen_hash


# Records remembered per route as (id, seen hash) only — about 200 bytes each;
# cleared (not grown) beyond the limit, so a huge source just gets fewer hits.
MEMO_LIMIT = 100_000


def _remembered(route: Route, native: NativeRecord, use_memo: bool) -> Observation:
    """Map a native record, unless it is byte-for-byte one this route mapped before."""
    if not use_memo:
        return _map(route, native)
    digest = hashlib.blake2b(dump(native).encode(), digest_size=16).hexdigest()
    remembered = route.memo.get(digest)
    if remembered is not None:
        source_id, seen_hash, stamp = remembered
        return Observation(
            source_id, native, seen_hash=seen_hash, mapped=False, updated_at=stamp, stamped=True
        )
    observation = _map(route, native)
    if observation.complaint is not None:
        if len(route.memo) >= MEMO_LIMIT:
            route.memo.clear()
        seen = observation.seen_hash or ""
        route.memo[digest] = (observation.source_id, seen, observation.updated_at)
    return observation


def _map(route: Route, native: NativeRecord) -> Observation:
    mapping = route.source_mapping
    try:
        source_id = storable.checked_id(mapping.native_id(native))
    except RecordError as exc:
        # Without an id (or one the ledger cannot hold) we still need a stable handle.
        digest = hashlib.sha256(dump(native).encode()).hexdigest()[:16]
        return Observation(f"noid-{digest}", native, problem=exc.reason, problem_field=exc.field)
    try:
        complaint = mapping.to_canonical(native)
        storable.check_complaint(complaint)
    except RecordError as exc:
        return Observation(source_id, native, problem=exc.reason, problem_field=exc.field)
    seen = change_hash(complaint)
    return Observation(
        source_id, native, complaint, seen, updated_at=complaint.updated_at, stamped=True
    )


def _adoptable(
    route: Route, observations: Sequence[Observation], known: Mapping[str, KnownRecord]
) -> dict[str, str]:
    """Unlinked records carrying the reference of a complaint the ledger knows.

    Such a record is the bridge's own copy whose create answer was lost (the other
    direction's create); the ledger only waits to hear its id here.
    """
    carried = {
        o.source_id: ref
        for o in observations
        if o.complaint is not None
        and o.source_id not in known
        and (ref := carried_ref(o.complaint)) is not None
    }
    if not carried:
        return {}
    states = route.memory.complaint_states(sorted(set(carried.values())))
    return {
        source_id: ref
        for source_id, ref in carried.items()
        if ref in states and route.memory.source_link(ref) is None
    }


def _found(
    route: Route, bound: Sequence[ToTarget], options: CycleOptions
) -> dict[str, tuple[Found, ...]]:
    """Copies the target holds already: by adoption, and in a rebuild by the bridge's reference.

    Otherwise a search by reference waits for the moment before the create (``Create.
    search_first``, ``bridge.sync.act.settle``): searching a whole page before its first
    create wastes the searches of every record the page does not reach when it stops
    (a 429, a failing target, a kill), and delays every create behind them.
    """
    search = route.target.can_find_by_ref and options.link_only
    found: dict[str, tuple[Found, ...]] = {}
    for step in bound:
        source_id, complaint = step.observation.source_id, step.observation.complaint
        copies: list[Found] = []
        if search:
            copies.extend(look_up(route, step.ref, source_id))
        if options.adopt is not None and complaint is not None:
            key = route.target_mapping.natural_key_of(complaint)
            text = natural_key_text(key) if key else None
            copies.extend(options.adopt.candidates(step.ref, text, who_of(complaint)))
        if copies:
            found[source_id] = tuple(copies)
    return found


def look_up(route: Route, ref: str, source_id: str) -> list[Found]:
    """The target's copy of a complaint, found by its reference (none, or one).

    A complaint first seen before the installation was named may have been sent under
    the older form of its reference: that one is looked for too.
    """
    target_id = route.target.find_by_ref(ref)
    older = reference(route.source.name, source_id)
    if target_id is None and older != ref and made_by(ref, route.installation):
        target_id = route.target.find_by_ref(older)
    return [] if target_id is None else [Found(target_id, "search")]
