"""``bridge backfill``: send a window of a source's history to a route's target, once.

The one-off an admin runs after installing the bridge ("send everything since January
2023 to LAPOR!, without creating one duplicate, and tell me first what you will do").
It is one ordinary engine cycle (``bridge.engine.run_cycle``) with ``CycleOptions``:

- the pull starts at the window (``since``), so a cursor source starts there and the
  daemon's stored cursor does not move;
- only records in the window are planned (``select``), and never one the route already
  delivered: a backfill brings complaints over and leaves linked ones to the daemon
  (with ``linked_sync=False`` a seen change would be noted without being carried over,
  and the daemon would then miss it);
- what the target already holds is adopted, never doubled (TRAPS.md "Doubling"): an
  index of the target's natural keys and carried bridge references, built from one
  full pull of the target before the run (``adopt``);
- creates are paced by a token bucket (``before_create``); only counts are kept.

Costs: the source is read twice (a counting pass gives the progress bar its total,
then the run) and the target once. Memory does not grow with the backfill: pages are
handled one at a time, counts only, and the route's observation memo (a daemon's
saving on records it lists every cycle) is switched off. It grows with the *target*:
the adoption index holds one reference and one 16-byte natural-key digest (plus the
id) per record the target already holds.

Interruption: Ctrl-C (KeyboardInterrupt) stops the run; the engine commits what the
page in flight delivered before the exception leaves it, and finishes the run's
cycle row as failed with error "interrupted" (``bridge status`` would
otherwise show a cycle running for ever). Rerunning the same command resumes:
delivered records are passed over, and creates whose intent was recorded but never
confirmed are looked up by reference before being sent again. A SIGKILL loses nothing
either: every create's intent is in the ledger before the remote call (its cycle row
stays unfinished, though: nothing runs after a SIGKILL).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_start
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from bridge.connector import Connector, NativeRecord
from bridge.engine import CycleOptions, CycleReport, Route, natural_key_text, run_cycle
from bridge.errors import ConfigError, RecordError
from bridge.mapping import Mapping as FieldMapping
from bridge.model import Attachment, Complaint, carried_ref
from bridge.plan import Observation

log = structlog.get_logger("bridge.backfill")

REFUSED_BY_TARGET = "refused when written to the target (see `bridge status`)"
"""Set-aside reason for records the mapping read but the target (or its mapping) refused."""


@dataclass(frozen=True)
class BackfillProgress:
    """Where a backfill stands, after each page."""

    done: int
    """Records of the window handled so far (created, linked, set aside, withheld…)."""
    total: int
    """Records the counting pass found to handle (already delivered ones left out)."""
    counts: Counter[str]
    elapsed: float


@dataclass(frozen=True)
class BackfillSummary:
    """What a backfill did, or in a dry run would do. ``created``/``linked`` mean "would" then."""

    route: str
    dry_run: bool
    interrupted: bool
    total_in_window: int
    """Records in the window (from the counting pass), already delivered ones included."""
    created: int
    linked: int
    """Adopted instead of created: by carried reference, natural key, or an earlier attempt."""
    linked_by: Counter[str]
    already_linked: int
    """Delivered by an earlier run (or the daemon): passed over, left to the daemon."""
    set_aside: int
    set_aside_reasons: Counter[str]
    withheld: int
    skipped: int
    elapsed: float
    rate: float
    """Records handled per second."""
    error: str | None = None
    unconfirmed: int = 0
    """Creates whose outcome is not known yet (a lost answer, a 5xx, a look-up not yet due):
    the next run looks each up by reference before sending it."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data; creates and links are ``would_…`` in a dry run."""
        verb = ("would_create", "would_link") if self.dry_run else ("created", "linked")
        return {
            "route": self.route,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "total_in_window": self.total_in_window,
            verb[0]: self.created,
            verb[1]: self.linked,
            "linked_by": dict(sorted(self.linked_by.items())),
            "already_linked": self.already_linked,
            "set_aside": self.set_aside,
            "set_aside_reasons": dict(self.set_aside_reasons.most_common()),
            "withheld": self.withheld,
            "skipped": self.skipped,
            "unconfirmed": self.unconfirmed,
            "elapsed_seconds": round(self.elapsed, 3),
            "rate_per_second": round(self.rate, 1),
            "error": self.error,
        }


def run_backfill(
    route: Route,
    *,
    since: date,
    until: date | None,
    limit: int | None,
    dry_run: bool,
    rate: float | None,
    progress: Callable[[BackfillProgress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BackfillSummary:
    """Backfill ``route`` for records created in [since, until). See the module docstring."""
    window = Window.of(since, until, route.source_mapping.timezone)
    _check_arguments(window, limit, rate)
    started = clock()
    tracker = _Tracker(progress, clock, started)
    selection = Selection(window, limit)
    counted = Selection(window, limit)
    index = AdoptionIndex()
    report: CycleReport | None = None
    log.info("backfill.started", route=route.name, dry_run=dry_run, since=str(since))
    try:
        count_window(route, counted)
        tracker.total = counted.selected
        index.fill(route)
        bucket = TokenBucket(rate, sleep=sleep, clock=clock) if rate else None
        options = _options(dry_run, window, selection, index, bucket, tracker)
        source = SourceView(route, selection)
        viewed = dataclasses.replace(route, source=source, memo=_NoMemo())
        report = run_cycle(viewed, options=options)
    except KeyboardInterrupt:
        # What the page in flight delivered was committed by the engine on the way out.
        log.warning("backfill.interrupted", route=route.name)
    interrupted = report is None
    report = report or tracker.report or CycleReport(route.name, dry_run, keep_lines=False)
    total = counted.selected + counted.already_linked
    summary = _summary(report, selection, index, total, clock() - started, interrupted)
    log.info(
        "backfill.finished",
        **{k: v for k, v in summary.as_json().items() if k != "route"},
        route=route.name,
    )
    return summary


def _options(
    dry_run: bool,
    window: Window,
    selection: Selection,
    index: AdoptionIndex,
    bucket: TokenBucket | None,
    tracker: _Tracker,
) -> CycleOptions:
    return CycleOptions(
        dry_run=dry_run,
        since=window.start,  # pull from the window; the daemon's cursor then stays put
        select=selection,
        adopt=index,
        before_create=bucket.take if bucket else None,
        on_page=tracker.on_page,
        keep_lines=False,  # counts only: memory stays flat however many records
        linked_sync=False,  # complaints only; follow-ups and statuses are the daemon's
        respect_pause=False,  # an admin is watching: show the error, not a pause notice
    )


def _check_arguments(window: Window, limit: int | None, rate: float | None) -> None:
    problems = []
    if window.end is not None and window.end <= window.start:
        problems.append("--until must be a later date than --since")
    if limit is not None and limit < 1:
        problems.append("--limit must be at least 1")
    if rate is not None and rate <= 0:
        problems.append("--rate must be more than 0 creates per second")
    if problems:
        raise ConfigError(problems, source="bridge backfill")


def _summary(
    report: CycleReport,
    selection: Selection,
    index: AdoptionIndex,
    total: int,
    elapsed: float,
    interrupted: bool,
) -> BackfillSummary:
    counts = report.counts
    linked = counts["link"] + counts["adopt"]
    linked_by = Counter({k: v for k, v in index.claims.items() if v})
    if earlier := linked - sum(linked_by.values()):
        linked_by["earlier_attempt"] = earlier  # a create resumed and found by its reference
    reasons = Counter(selection.unreadable)
    if refused := counts["set_aside"] - sum(reasons.values()):
        reasons[REFUSED_BY_TARGET] = refused
    done = sum(counts.values())
    return BackfillSummary(
        route=report.route,
        dry_run=report.dry_run,
        interrupted=interrupted,
        total_in_window=total,
        created=counts["create"],
        linked=linked,
        linked_by=linked_by,
        already_linked=selection.already_linked,
        set_aside=counts["set_aside"],
        set_aside_reasons=reasons,
        withheld=counts["withhold"],
        skipped=counts["skip"],
        elapsed=elapsed,
        rate=done / elapsed if elapsed > 0 else 0.0,
        error=report.error,
        unconfirmed=counts["unconfirmed"] + counts["waiting"],
    )


@dataclass
class _Tracker:
    """Turns the engine's per-page report into ``BackfillProgress``; keeps the live report."""

    progress: Callable[[BackfillProgress], None] | None
    clock: Callable[[], float]
    started: float
    total: int = 0
    report: CycleReport | None = None

    def on_page(self, report: CycleReport) -> None:
        self.report = report  # the same object all run long: an interrupt still has its counts
        if self.progress is None:
            return
        done = sum(report.counts.values())
        # The source may have grown since the counting pass: never show more than 100 %.
        total = max(self.total, done)
        self.progress(
            BackfillProgress(done, total, Counter(report.counts), self.clock() - self.started)
        )


# -- the window and the selection ----------------------------------------------------


@dataclass(frozen=True)
class Window:
    """[start, end) as aware datetimes: dates read as midnight in the source's zone."""

    start: datetime
    end: datetime | None
    zone: ZoneInfo

    @classmethod
    def of(cls, since: date, until: date | None, zone: ZoneInfo) -> Window:
        end = None if until is None else datetime.combine(until, day_start(), tzinfo=zone)
        return cls(datetime.combine(since, day_start(), tzinfo=zone), end, zone)

    def contains(self, complaint: Complaint) -> bool:
        moment = self.moment_of(complaint)
        if moment is None:
            return True  # an undated record cannot be shown to lie outside: it is sent
        return self.start <= moment and (self.end is None or moment < self.end)

    def moment_of(self, complaint: Complaint) -> datetime | None:
        """When the complaint was filed: created_at, else the incident date, else updated_at."""
        if complaint.created_at is not None:
            return complaint.created_at
        if complaint.incident_date is not None:
            return datetime.combine(complaint.incident_date, day_start(), tzinfo=self.zone)
        return complaint.updated_at


@dataclass
class Selection:
    """Decides, record by record, what the backfill plans; counts what it passes over.

    Used as ``CycleOptions.select``. ``delivered`` holds the current page's source ids
    that the route already delivered; ``SourceView`` refreshes it before each page.
    """

    window: Window
    limit: int | None
    delivered: frozenset[str] = frozenset()
    selected: int = 0
    already_linked: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)

    @property
    def full(self) -> bool:
        return self.limit is not None and self.selected >= self.limit

    def __call__(self, observation: Observation) -> bool:
        return self.admit(observation.source_id, observation.complaint, observation.problem)

    def admit(self, source_id: str, complaint: Complaint | None, problem: str | None) -> bool:
        if self.full:
            return False
        # Unreadable records are taken in: the run sets them aside, with their reason.
        if complaint is not None and not self.window.contains(complaint):
            return False
        if source_id in self.delivered:
            self.already_linked += 1
            return False
        self.selected += 1
        if complaint is None:
            self.unreadable[problem or "the record could not be mapped"] += 1
        return True


def count_window(route: Route, selection: Selection) -> None:
    """The counting pass: pull, map and select without planning (it reads the source once)."""
    for page in delivered_pages(route, route.source, selection):
        for native in page:
            selection.admit(*_read(route.source_mapping, native))


def _read(mapping: FieldMapping, native: NativeRecord) -> tuple[str, Complaint | None, str | None]:
    source_id = ""
    try:
        source_id = mapping.native_id(native)
        return source_id, mapping.to_canonical(native), None
    except RecordError as exc:
        return source_id, None, exc.reason


def delivered_pages(
    route: Route, source: Connector, selection: Selection, since: datetime | None = None
) -> Iterator[list[NativeRecord]]:
    """``source``'s pages from the window's start; each page's delivered ids looked up first.

    Stops pulling once the selection is full (``--limit``): the engine has committed
    the page by the time it asks for the next one.
    """
    for page in source.pull(since or selection.window.start):
        selection.delivered = _delivered(route, page)
        yield page
        if selection.full:
            return


def _delivered(route: Route, page: Sequence[NativeRecord]) -> frozenset[str]:
    """Source ids on this page that the route delivered (linked, create confirmed): 2 queries."""
    ids = []
    for native in page:
        try:
            ids.append(route.source_mapping.native_id(native))
        except RecordError:
            continue  # no id, never linked: the engine sets it aside
    links = route.ledger.links.by_remote(route.source.name, ids)
    refs = [link.ref for link in links.values()]
    # The source link is written with the intent: a create never confirmed is not delivered.
    pending = route.ledger.creates.pending(route.name, route.target.name, refs) if refs else {}
    return frozenset(sid for sid, link in links.items() if link.ref not in pending)


class SourceView(Connector):
    """The route's source as the backfill's run sees it (see ``delivered_pages``)."""

    type = "backfill-view"

    def __init__(self, route: Route, selection: Selection) -> None:
        super().__init__(route.source.name, route.source.settings)
        self._route = route
        self._selection = selection
        self.change_feed = route.source.change_feed

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        return delivered_pages(self._route, self._route.source, self._selection, since)

    def get(self, record_id: str) -> NativeRecord | None:
        return self._route.source.get(record_id)

    def download(self, attachment: Attachment) -> bytes:
        return self._route.source.download(attachment)


class _NoMemo(dict[str, tuple[str, str]]):
    """A ``Route.memo`` that remembers nothing.

    The daemon's memo lets it skip re-mapping records it lists every cycle, but a
    record recognised that way comes back unmapped, and the backfill's window needs
    each record's dates; a backfill also reads each record once, so a memo gains nothing.
    """

    def __setitem__(self, key: str, value: tuple[str, str]) -> None:
        return None


# -- adoption ------------------------------------------------------------------------


def _digest(text: str) -> bytes:
    # Natural keys hold whole complaint texts; 16 bytes each keep the index small.
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class AdoptionIndex(MappingABC[str, str]):
    """What the target already holds: carried bridge reference or natural key → its id.

    Used as ``CycleOptions.adopt``. Each target record is handed out once: a lookup
    that finds it *claims* it, so two identical source complaints never adopt the same
    target record (the second is created). Natural keys are kept as digests; iterating
    lists the references only. Records the ledger already links are left out.
    """

    def __init__(self) -> None:
        self._by_ref: dict[str, str] = {}
        self._by_key: dict[bytes, str] = {}
        self._more: dict[bytes, list[str]] = {}
        """Further target records sharing a natural key (rare: kept apart to stay small)."""
        self._claimed: set[str] = set()
        self.claims: Counter[str] = Counter()
        """How many lookups adopted a record, by "ref" and "same_text" (the natural key)."""

    def fill(self, route: Route) -> None:
        """Pull the whole target once and index what it holds (a read; nothing is written)."""
        for page in route.target.pull(None):
            self.add_page(route, page)
        log.info("backfill.index.built", route=route.name, refs=len(self._by_ref))

    def add_page(self, route: Route, page: Sequence[NativeRecord]) -> None:
        mapping = route.target_mapping
        read = [_read(mapping, native) for native in page]
        linked = route.ledger.links.by_remote(route.target.name, [i for i, _, _ in read if i])
        for target_id, complaint, _ in read:
            if complaint is None or target_id in linked:
                continue  # unreadable here, or already some complaint's copy
            if (ref := carried_ref(complaint)) is not None:
                # The bridge made this record for that complaint: it is adopted by that
                # reference only, never handed to another complaint with the same text.
                self._by_ref.setdefault(ref, target_id)
                continue
            if (key := mapping.natural_key_of(complaint)) is not None:
                digest = _digest(natural_key_text(key))
                if self._by_key.setdefault(digest, target_id) != target_id:
                    self._more.setdefault(digest, []).append(target_id)

    def __getitem__(self, key: str) -> str:
        found = self._claim_ref(key) or self._claim_key(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        # Mapping's default would go through __getitem__ and claim the record.
        if not isinstance(key, str):
            return False
        return key in self._by_ref or _digest(key) in self._by_key

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._by_ref))

    def __len__(self) -> int:
        return len(self._by_ref) + len(self._by_key)

    def _claim_ref(self, ref: str) -> str | None:
        target_id = self._by_ref.pop(ref, None)
        if target_id is None or not self._claim(target_id):
            return None
        self.claims["ref"] += 1
        return target_id

    def _claim_key(self, text: str) -> str | None:
        digest = _digest(text)
        while (target_id := self._next_of(digest)) is not None:
            if self._claim(target_id):
                self.claims["same_text"] += 1
                return target_id
        return None

    def _next_of(self, digest: bytes) -> str | None:
        """Take the next unclaimed-so-far candidate for a natural key out of the index."""
        more = self._more.get(digest)
        if more:
            return more.pop()
        return self._by_key.pop(digest, None)

    def _claim(self, target_id: str) -> bool:
        if target_id in self._claimed:
            return False  # adopted already through its other key (reference or natural key)
        self._claimed.add(target_id)
        return True


# -- pacing --------------------------------------------------------------------------


class TokenBucket:
    """At most ``rate`` calls of ``take`` per second, no burst; waits with the given ``sleep``."""

    def __init__(
        self, rate: float, *, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self._rate = rate
        self._sleep = sleep
        self._clock = clock
        self._tokens = 1.0
        self._last = clock()

    def take(self) -> None:
        now = self._clock()
        earned = max(0.0, now - self._last) * self._rate
        self._tokens = min(1.0, self._tokens + earned)
        self._last = now
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) / self._rate
            self._sleep(wait)
            # The wait earned exactly the missing token; a longer real sleep is credited next time.
            self._tokens, self._last = 1.0, now + wait
        self._tokens -= 1.0
