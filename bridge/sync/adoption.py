"""Adoption: linking a complaint to the copy the target already holds, instead of creating it.

Two kinds of cycle adopt:

- **a route's first full pass in a ledger.** A new ledger, one restored from an old copy,
  or one that replaced a lost one does not know the copies the bridge made before. Until
  a route has read its whole source once in this ledger (the ledger key
  ``adopted:<route>``, cleared by ``bridge ledger accept`` and ``restore``), every record
  the ledger does not know is looked up in the target by the bridge's reference before
  it is created: per record where the target can be searched, otherwise by reading the
  target once, whole, for the references its records carry (``CarriedRefs``). While the
  route the other way has not made its own pass, records carrying an unknown reference
  wait (``bridge.sync.plan`` step 7).
- **a backfill** (``AdoptionIndex``): the target's records are indexed once, by carried
  reference and by the natural key its mapping names (complaints typed in by hand).

Both answer the ``Adoption`` protocol: ``candidates`` only reads (``bridge.sync.observe``
asks it for every record that may go to the target, in a dry run too); ``claim`` hands a
target record to the one complaint the plan linked it to, so it is never handed twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from bridge.connector import NativeRecord
from bridge.errors import RecordError
from bridge.model import Complaint, carried_ref
from bridge.sync.adoption_who import Who, conflict, who_of

if TYPE_CHECKING:
    from bridge.mapping import Mapping as FieldMapping
    from bridge.sync.report import CycleReport
    from bridge.sync.route import CycleOptions, Route

log = structlog.get_logger("bridge.engine")


@dataclass(frozen=True)
class Found:
    """A record in the target that is already a copy of the complaint."""

    target_id: str
    how: str
    """``search`` (the target found it by reference), or an adoption's ``ref`` (a carried
    reference) or ``same_text`` (the target mapping's natural key)."""
    conflict: str | None = None
    """Why this same-text record must not be adopted (another reporter, other privacy flags)."""


class Adoption(Protocol):
    """Records already in the target that complaints may be linked to (see the module doc)."""

    def candidates(self, ref: str, natural_key: str | None, who: Who | None = None) -> list[Found]:
        """Unclaimed target records that are this complaint (by ``ref``, else by key).

        A record found by key whose reporter or privacy flags differ from ``who`` carries
        the ``conflict``: a person decides, it is never linked automatically.
        """
        ...

    def claim(self, found: Found) -> None:
        """``found`` is now linked to a complaint: never offer it again."""
        ...


def natural_key_text(key: Sequence[str]) -> str:
    """A natural key as one string, the form ``Adoption.candidates`` takes."""
    return "\x1f".join(key)


def claim_links(adoption: Adoption | None, found: Iterable[Found]) -> None:
    """Claim the adopted records a page's plan linked (a dry run too: its counts stay exact)."""
    if adoption is None:
        return
    for item in found:
        if item.how != "search":
            adoption.claim(item)


# -- a route's first pass in a ledger ------------------------------------------------


def adopted(route: Route, name: str | None = None) -> bool:
    """Has ``route`` (or the route called ``name``) made its first full pass in this ledger?"""
    return route.memory.adopted(name)


def prepare(route: Route, options: CycleOptions) -> CycleOptions:
    """The cycle's options, with what this ledger does not know yet taken into account."""
    adopting = options.since is None and (options.adopting or not adopted(route))
    reverse = any(not adopted(route, name) for name in route.reverse_routes)
    options = dataclasses.replace(options, adopting=adopting, reverse_adopting=reverse)
    if not adopting:
        return options
    log.info("route.adoption.started", route=route.name, search=route.target.can_find_by_ref)
    if route.target.can_find_by_ref or options.adopt is not None:
        return options
    return dataclasses.replace(options, adopt=CarriedRefs.read(route))


def finish(route: Route, options: CycleOptions, report: CycleReport) -> None:
    """Note a first pass done, unless a record it read is still owed to a later cycle."""
    if not options.adopting or options.dry_run or options.link_only:
        return
    if report.counts["unconfirmed"] or report.counts["waiting"]:
        return
    route.memory.mark_adopted(route.clock())
    log.info("route.adoption.finished", route=route.name)


class CarriedRefs:
    """Reference → target id, for the target's unlinked records that carry one."""

    def __init__(self, by_ref: dict[str, str]) -> None:
        self._by_ref = by_ref

    @classmethod
    def read(cls, route: Route) -> CarriedRefs:
        """Read the whole target once (a target that cannot be searched by reference)."""
        carried: dict[str, str] = {}
        for page in route.target.pull(None):
            for target_id, complaint, _ in (read_record(route.target_mapping, n) for n in page):
                if complaint is not None and (ref := carried_ref(complaint)) is not None:
                    carried.setdefault(ref, target_id)
        linked = route.memory.links_for_target(list(carried.values()))
        return cls({ref: tid for ref, tid in carried.items() if tid not in linked})

    def candidates(self, ref: str, natural_key: str | None, who: Who | None = None) -> list[Found]:
        target_id = self._by_ref.get(ref)
        return [] if target_id is None else [Found(target_id, "ref")]

    def claim(self, found: Found) -> None:
        return None  # one reference names one complaint: nothing else can ask for it


# -- a backfill ----------------------------------------------------------------------


def _digest(text: str) -> bytes:
    # Natural keys hold whole complaint texts; 16 bytes each keep the index small.
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class AdoptionIndex:
    """What the target already holds: carried bridge reference or natural key → its id.

    Each target record is handed out once: once the plan links it, it is claimed, so two
    identical source complaints never adopt the same target record (the second is
    created). Natural keys are kept as digests. Records the ledger already links are left
    out.
    """

    def __init__(self) -> None:
        self._by_ref: dict[str, str] = {}
        self._by_key: dict[bytes, str] = {}
        self._more: dict[bytes, list[str]] = {}
        """Further target records sharing a natural key (rare: kept apart to stay small)."""
        self._claimed: set[str] = set()
        self._who: dict[str, Who] = {}
        """Reporter and privacy flags of the records indexed by natural key."""
        self.claims: Counter[str] = Counter()
        """How many records were adopted, by ``ref`` and ``same_text`` (the natural key)."""

    def fill(self, route: Route) -> None:
        """Pull the whole target once and index what it holds (a read; nothing is written)."""
        for page in route.target.pull(None):
            self.add_page(route, page)
        log.info("backfill.index.built", route=route.name, refs=len(self._by_ref))

    def add_page(self, route: Route, page: Sequence[NativeRecord]) -> None:
        mapping = route.target_mapping
        read = [read_record(mapping, native) for native in page]
        linked = route.memory.links_for_target([i for i, _, _ in read if i])
        for target_id, complaint, _ in read:
            if complaint is None or target_id in linked:
                continue  # unreadable here, or already some complaint's copy
            if (ref := carried_ref(complaint)) is not None:
                # The bridge made this record for that complaint: it is adopted by that
                # reference only, never handed to another complaint with the same text.
                self._by_ref.setdefault(ref, target_id)
            elif (key := mapping.natural_key_of(complaint)) is not None:
                self._who[target_id] = who_of(complaint)
                digest = _digest(natural_key_text(key))
                if self._by_key.setdefault(digest, target_id) != target_id:
                    self._more.setdefault(digest, []).append(target_id)

    def candidates(self, ref: str, natural_key: str | None, who: Who | None = None) -> list[Found]:
        found = []
        if (target_id := self._by_ref.get(ref)) is not None and target_id not in self._claimed:
            found.append(Found(target_id, "ref"))
        if natural_key is not None:
            digest = _digest(natural_key)
            first = self._by_key.get(digest)
            same = ([first] if first is not None else []) + self._more.get(digest, [])
            for t in same:
                if t not in self._claimed:
                    theirs = self._who.get(t)
                    why = conflict(who, theirs) if who and theirs else None
                    found.append(Found(t, "same_text", why))
        return found

    def claim(self, found: Found) -> None:
        self._claimed.add(found.target_id)
        self.claims[found.how] += 1


def read_record(
    mapping: FieldMapping, native: NativeRecord
) -> tuple[str, Complaint | None, str | None]:
    """A record's id, complaint (None when unreadable) and the reason it is unreadable."""
    source_id = ""
    try:
        source_id = mapping.native_id(native)
        return source_id, mapping.to_canonical(native), None
    except RecordError as exc:
        return source_id, None, exc.reason
