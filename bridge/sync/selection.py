"""What a backfill selects: the records of a window of dates, up to a limit, not yet delivered.

``Window`` reads ``--since``/``--until`` as midnight in the source's time zone;
``Selection`` is the cycle's ``CycleOptions.select`` and counts what it passes over;
``count_window`` is the counting pass that gives the progress bar its total.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as day_start
from zoneinfo import ZoneInfo

from bridge.model import Complaint
from bridge.sync.adoption import read_record
from bridge.sync.facts import Observation
from bridge.sync.route import Route


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

    Used as ``CycleOptions.select``: a record the route already delivered is passed over
    (the daemon carries its changes), as is one outside the window.
    """

    window: Window
    limit: int | None
    selected: int = 0
    already_linked: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)

    @property
    def full(self) -> bool:
        return self.limit is not None and self.selected >= self.limit

    def __call__(self, observation: Observation, delivered: bool) -> bool:
        o = observation
        return self.admit(o.complaint, o.problem, delivered=delivered)

    def admit(self, complaint: Complaint | None, problem: str | None, *, delivered: bool) -> bool:
        if self.full:
            return False
        # Unreadable records are taken in: the run quarantines them, with their reason.
        if complaint is not None and not self.window.contains(complaint):
            return False
        if delivered:
            self.already_linked += 1
            return False
        self.selected += 1
        if complaint is None:
            self.unreadable[problem or "the record could not be mapped"] += 1
        return True


def count_window(route: Route, selection: Selection) -> None:
    """The counting pass: pull, map and select without planning (it reads the source once)."""
    for page in route.source.pull(selection.window.start):
        read = [read_record(route.source_mapping, native) for native in page]
        delivered = _delivered(route, [source_id for source_id, _, _ in read if source_id])
        for source_id, complaint, problem in read:
            selection.admit(complaint, problem, delivered=source_id in delivered)
        if selection.full:
            return


def _delivered(route: Route, ids: Sequence[str]) -> frozenset[str]:
    """Source ids of a page that the route delivered (linked, create confirmed): 2 queries."""
    links = route.memory.links_for_source(ids)
    refs = [link.ref for link in links.values()]
    # The source link is written with the intent: a create never confirmed is not delivered.
    pending = route.memory.pending_creates(refs) if refs else {}
    return frozenset(sid for sid, link in links.items() if link.ref not in pending)
