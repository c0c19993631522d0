"""``bridge backfill``: send a window of a source's history to a route's target, once.

The one-off an admin runs after installing the bridge ("send everything since January
2023 to LAPOR!, without creating one duplicate, and tell me first what you will do").
It is one ordinary cycle (``bridge.sync.cycle.run_cycle``) with ``CycleOptions``:

- the pull starts at the window (``since``), so a cursor source starts there and the
  daemon's stored cursor does not move;
- only records in the window are planned (``select``), and never one the route already
  delivered: a backfill brings complaints over and leaves linked ones to the daemon
  (with ``linked_sync=False`` a seen change would be noted without being carried over,
  and the daemon would then miss it);
- what the target already holds is adopted, never doubled (TRAPS.md "Doubling"): an
  index of the target's natural keys and carried bridge references, built from one
  full pull of the target before the run (``adopt``, ``bridge.sync.adoption.AdoptionIndex``);
- the pull stops once ``--limit`` records were planned (``enough``);
- creates are paced by a token bucket (``before_create``); only counts are kept.

Costs: the source is read twice (a counting pass gives the progress bar its total,
then the run) and the target once. Memory does not grow with the backfill: pages are
handled one at a time, counts only, and the route's observation memo (a daemon's
saving on records it lists every cycle) is switched off (``memo``). It grows with the *target*:
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

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import structlog

from bridge.errors import ConfigError
from bridge.sync.adoption import AdoptionIndex
from bridge.sync.cycle import run_cycle
from bridge.sync.report import CycleReport
from bridge.sync.route import CycleOptions, Route
from bridge.sync.selection import Selection, Window, count_window

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
        report = run_cycle(route, options=options)
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
        enough=lambda: selection.full,  # --limit: stop pulling once enough were planned
        adopt=index,
        memo=False,  # every record mapped: the window needs its dates
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
