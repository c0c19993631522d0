"""What a cycle reports: one line per source record, and counts.

``line_for`` is the one description of a planned action. The dry run prints the plan
through it and nothing else; the real run reports the same lines for what it does
not send, and the outcome (``create`` with the target's id, ``unconfirmed``,
``set_aside``) for what it sends.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bridge.sync.plan import (
    Action,
    AdoptCopy,
    Create,
    HoldDuplicate,
    Link,
    LinkDuplicate,
    NoteChange,
    NotFound,
    Quarantine,
    Skip,
    Withhold,
)


@dataclass(frozen=True)
class PlannedLine:
    """One line of a plan report: what happens (or would happen) to one source record."""

    action: str
    source_id: str
    ref: str | None = None
    target_id: str | None = None
    reason: str | None = None
    ticket: str | None = None
    """The source's own human-facing number (e.g. SIDUMAS ``no_tiket``), when it has one."""


@dataclass
class CycleReport:
    route: str
    dry_run: bool
    counts: Counter[str] = field(default_factory=Counter)
    lines: list[PlannedLine] = field(default_factory=list)
    error: str | None = None
    paused: str | None = None
    """Why the cycle did not run: a connector it needs is paused (no request was sent)."""
    notes: list[str] = field(default_factory=list)
    """What this route leaves undone by configuration (a read-only target), for the user."""
    keep_lines: bool = True
    """False keeps counts only, so a backfill of millions holds no per-record lines."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def add(self, line: PlannedLine) -> None:
        self.counts[line.action] += 1
        if self.keep_lines:
            self.lines.append(line)


def line_for(action: Action) -> PlannedLine:
    """The report line of a planned action (the dry run's whole output, record by record)."""
    match action:
        case Create(ref=ref, observation=o):
            return PlannedLine("create", o.source_id, ref, ticket=o.ticket)
        case Link(ref=ref, observation=o, target_id=target_id):
            return PlannedLine("link", o.source_id, ref, target_id, ticket=o.ticket)
        case AdoptCopy(ref=ref, observation=o):
            return PlannedLine("adopt", o.source_id, ref)
        case LinkDuplicate(ref=ref, observation=o):
            return PlannedLine("duplicate", o.source_id, ref, ticket=o.ticket)
        case HoldDuplicate(observation=o) as held:
            return PlannedLine("set_aside", o.source_id, reason=held.reason, ticket=o.ticket)
        case NoteChange(ref=ref, observation=o):
            return PlannedLine("change", o.source_id, ref)
        case NotFound(ref=ref, observation=o):
            return PlannedLine("not_found", o.source_id, ref, ticket=o.ticket)
        case Quarantine(observation=o, reason=reason):
            return PlannedLine("set_aside", o.source_id, reason=reason)
        case Withhold(source_id=source_id, reason=reason):
            return PlannedLine("withhold", source_id, reason=reason)
        case Skip(source_id=source_id, reason=reason, kind=kind):
            return PlannedLine(kind, source_id, reason=reason)
