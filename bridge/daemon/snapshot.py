"""What the HTTP endpoints show, read from the ledger once and served many times.

Reading 10,000 complaints' deadlines takes longer than a scrape may: the server answers
from the last ``Snapshot`` and a background thread (``SnapshotKeeper``) takes a new one
after every cycle and every ``refresh_seconds``. A snapshot holds counts, route and
system names, times, and for the deadline list the identifiers the desk searches for
(tickets, tracking ids): never a name, a phone number or a complaint's text.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from bridge.config import BridgeConfig
from bridge.errors import BridgeError
from bridge.health import ConnectorHealth
from bridge.ledger import LeaseInfo, Ledger, RouteStatus
from bridge.ledger.notices import Notice
from bridge.privacy import scrub_text
from bridge.sla import Deadline, agency_zone, deadlines, due_within, sla_calendar, summary

log = structlog.get_logger("bridge.daemon.snapshot")
NEAR_LIMIT = 200  # the page lists the soonest deadlines; the rest are counted


@dataclass(frozen=True)
class Snapshot:
    """The bridge's state at ``taken_at``."""

    taken_at: datetime
    routes: tuple[RouteStatus, ...]
    systems: tuple[ConnectorHealth, ...]
    leases: tuple[LeaseInfo, ...]
    set_aside_reasons: dict[str, Counter[str]]
    """route → field (or "record") → records set aside for it."""
    sla: dict[str, dict[str, int]]
    near: tuple[Deadline, ...]
    provisional_years: tuple[int, ...]
    calendar_version: str | None
    zone: str
    soon: timedelta
    errors: tuple[str, ...] = field(default=())
    """What could not be read (the ledger down): shown instead of hiding the problem."""
    notices: tuple[Notice, ...] = field(default=())
    """What the configured connectors said about their set-up (``ledger.notices``)."""

    def to_json(self) -> dict[str, Any]:
        """The snapshot as ``/status.json`` serves it (times ISO 8601 with their offset)."""
        now = self.taken_at
        return {
            "taken_at": _iso(now),
            "zone": self.zone,
            "routes": [_route_json(r, now) for r in self.routes],
            "systems": [
                {
                    "name": s.connector,
                    "failures": s.failures,
                    "paused": s.paused_at(now),
                    "paused_until": _iso(s.paused_until) if s.paused_at(now) else None,
                    "last_error": scrub_text(s.last_error) if s.last_error else None,
                }
                for s in self.systems
            ],
            "leases": [
                {"route": x.route, "holder": x.holder, "held": not x.is_free(now)}
                for x in self.leases
            ],
            "set_aside": {r: dict(c) for r, c in self.set_aside_reasons.items()},
            "sla": {
                "by_stage": self.sla,
                "provisional_years": list(self.provisional_years),
                "calendar_version": self.calendar_version,
                "near": [_deadline_json(d, now) for d in self.near],
            },
            "errors": list(self.errors),
            "notices": [
                {
                    "system": n.system,
                    "text": n.text,
                    "first_seen": _iso(n.first_seen),
                    "last_seen": _iso(n.last_seen),
                }
                for n in self.notices
            ],
        }


def take_snapshot(ledger: Ledger, settings: BridgeConfig, now: datetime | None = None) -> Snapshot:
    """Read everything the endpoints show; the SLA part is skipped (and said) if it fails."""
    now = now or datetime.now(UTC)
    names = [r.name for r in settings.routes]
    routes = tuple(ledger.cycles.status(name) for name in names)
    reasons: dict[str, Counter[str]] = {}
    for item in ledger.quarantine.listed():
        reasons.setdefault(item.route, Counter())[item.field or "record"] += 1
    soon = timedelta(days=settings.daemon.sla_due_soon_days)
    errors: list[str] = []
    try:
        calendar = sla_calendar(settings, now)
        found = deadlines(ledger, calendar, agency_zone(settings), now)
        by_stage, near = summary(found, soon, now), due_within(found, soon, now)
        provisional, version = tuple(sorted(calendar.provisional_years)), calendar.version
    except BridgeError as exc:
        errors.append(f"deadlines not computed: {scrub_text(str(exc))}")
        by_stage, near, provisional, version = {}, [], (), None
    return Snapshot(
        taken_at=now,
        routes=routes,
        systems=tuple(ledger.health.listed()),
        leases=tuple(x for x in ledger.leases.listed() if x.route in names),
        set_aside_reasons=reasons,
        sla=by_stage,
        near=tuple(near[:NEAR_LIMIT]),
        provisional_years=provisional,
        calendar_version=version,
        zone=settings.daemon.time_zone,
        soon=soon,
        errors=tuple(errors),
        notices=tuple(ledger.notices.listed(_systems(settings))),
    )


class SnapshotKeeper:
    """Takes a new snapshot when asked (after a cycle) or every ``refresh_seconds``."""

    def __init__(self, take: Callable[[], Snapshot], refresh_seconds: float = 30.0) -> None:
        self._take = take
        self._refresh = refresh_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._thread: threading.Thread | None = None

    def latest(self) -> Snapshot | None:
        with self._lock:
            return self._latest

    def refresh_now(self) -> Snapshot:
        """Take one now, in the caller's thread (at start, and in tests)."""
        snapshot = self._take()
        with self._lock:
            self._latest = snapshot
        return snapshot

    def poke(self, *_args: object) -> None:
        """Ask for a new snapshot soon (the daemon calls it after every cycle)."""
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="snapshot", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._refresh)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.refresh_now()
            except Exception as exc:  # noqa: BLE001 - the last snapshot stays; the next try may work
                log.warning("status.snapshot.failed", error=type(exc).__name__)


def _systems(settings: BridgeConfig) -> list[str]:
    """The systems the routes connect: the only ones a cycle notes notices for."""
    return sorted({end for r in settings.routes for end in (r.source, r.target)})


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def _route_json(status: RouteStatus, now: datetime) -> dict[str, Any]:
    last = status.last_cycle
    lag = status.lag(now)
    return {
        "name": status.route,
        "last_success_at": _iso(status.last_success_at),
        "lag_seconds": round(lag.total_seconds()) if lag is not None else None,
        "last_cycle_ok": last.ok if last is not None else None,
        "last_error": scrub_text(last.error) if last is not None and last.error else None,
        "linked": status.linked,
        "pending_creates": status.pending_creates,
        "set_aside": status.quarantined,
        "reviews_open": status.reviews,
    }


def _deadline_json(deadline: Deadline, now: datetime) -> dict[str, Any]:
    return {
        "ref": deadline.ref,
        "stage": deadline.stage,
        "status": deadline.status,
        "due_at": _iso(deadline.due_at),
        "overdue": deadline.overdue(now),
        "ids": [{"system": s, "id": i} for s, i in deadline.ids],
        "provisional": deadline.provisional,
    }


def deadline_rows(found: Sequence[Deadline], now: datetime) -> list[dict[str, Any]]:
    """The deadlines as JSON rows (``bridge sla --json`` prints the same shape)."""
    return [_deadline_json(d, now) for d in found]
