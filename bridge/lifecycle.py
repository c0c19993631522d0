"""A complaint's lifecycle: its normalised statuses, the allowed transitions, who may make them.

The status machine, every allowed transition in one place. Pure: no I/O. The engine
asks ``decide`` what to do with a status observed on one system, given what the ledger
holds; the answer is one of

- ``same``: nothing changed;
- ``apply``: record it and carry it to the other side;
- ``ignore``: keep the ledger as it is (an older event, a side that lags behind,
  a status the observing side does not own) — recorded in the history, not written;
- ``review``: a person must look (an unknown raw status, a transition the machine
  does not allow) — flagged, never guessed.

Which side owns which statuses is declared in the mapping files (``[owns] statuses``):
for example verification belongs to LAPOR!, "done" to the agency that did the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bridge.model import FINAL_STATUSES, Status

S = Status

# From each status, where a complaint may go next. Final statuses go nowhere.
TRANSITIONS: Mapping[Status, frozenset[Status]] = {
    S.NEW: frozenset(
        {
            S.VERIFIED,
            S.DISPATCHED,
            S.POSTPONED,
            S.IN_PROGRESS,  # a local door may start work before the hub verifies
            S.RESPONDED,
            S.CLOSED,
            S.ARCHIVED,
            S.REJECTED,
        }
    ),
    S.VERIFIED: frozenset(
        {S.DISPATCHED, S.POSTPONED, S.IN_PROGRESS, S.RESPONDED, S.CLOSED, S.ARCHIVED, S.REJECTED}
    ),
    S.POSTPONED: frozenset({S.VERIFIED, S.DISPATCHED, S.IN_PROGRESS, S.ARCHIVED, S.REJECTED}),
    S.DISPATCHED: frozenset({S.IN_PROGRESS, S.RESPONDED, S.CLOSED, S.ARCHIVED}),
    S.IN_PROGRESS: frozenset({S.RESPONDED, S.CLOSED}),
    S.RESPONDED: frozenset({S.IN_PROGRESS, S.CLOSED}),  # the citizen answered the response
    S.CLOSED: frozenset(),
    S.ARCHIVED: frozenset(),
    S.REJECTED: frozenset(),
}

# How far along the life cycle a status is. A side showing a lower rank than the
# ledger is behind (it has not heard yet), not a reason to move backwards.
RANK: Mapping[Status, int] = {
    S.NEW: 0,
    S.POSTPONED: 1,
    S.VERIFIED: 1,
    S.DISPATCHED: 2,
    S.IN_PROGRESS: 3,
    S.RESPONDED: 4,
    S.CLOSED: 5,
    S.ARCHIVED: 5,
    S.REJECTED: 5,
}

DecisionKind = Literal["same", "apply", "ignore", "review"]


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    reason: str


def can_move(old: Status, new: Status) -> bool:
    """Whether the machine allows ``old`` → ``new``."""
    return new in TRANSITIONS[old]


def is_final(status: Status | None) -> bool:
    return status in FINAL_STATUSES


def decide(
    *,
    current: Status | None,
    current_at: datetime | None,
    observed: Status | None,
    observed_at: datetime | None,
    observed_by: str,
    owners: Mapping[Status, frozenset[str]],
    previous: Status | None = None,
) -> Decision:
    """What to do with ``observed`` (seen on system ``observed_by``) given the ledger's ``current``.

    ``owners`` maps a status to the systems that own transitions into it; a status
    nobody declares may be set by either side. ``previous`` is what the same system
    showed before: a side that had got further and now shows less went *backwards*
    (someone reopened a closed complaint) — that is for a person to look at, unlike
    a side that simply has not caught up yet.
    """
    if observed is None:
        return Decision("review", "the raw status is not in the mapping's status map")
    if observed == current:
        return Decision("same", "already the ledger's status")
    if current is None:
        return Decision("apply", "first status known for this complaint")
    if observed_at is not None and current_at is not None and observed_at < current_at:
        return Decision("ignore", f"older than the ledger's {current.value} (never moves back)")
    if not can_move(current, observed):
        if previous is not None and RANK[previous] > RANK[observed]:
            return Decision(
                "review", f"{observed_by} moved back from {previous.value} to {observed.value}"
            )
        if RANK[observed] <= RANK[current]:
            return Decision("ignore", f"{observed_by} has not caught up with {current.value}")
        return Decision(
            "review", f"{current.value} → {observed.value} is not an allowed transition"
        )
    allowed = owners.get(observed, frozenset())
    if allowed and observed_by not in allowed:
        owner = ", ".join(sorted(allowed))
        return Decision("ignore", f"{observed.value} is owned by {owner}, not {observed_by}")
    return Decision("apply", f"{current.value} → {observed.value} by {observed_by}")


def owners_from(declarations: Mapping[str, frozenset[Status]]) -> dict[Status, frozenset[str]]:
    """Invert ``system → statuses it owns`` into ``status → systems owning it``."""
    owners: dict[Status, set[str]] = {}
    for system, statuses in declarations.items():
        for status in statuses:
            owners.setdefault(status, set()).add(system)
    return {status: frozenset(systems) for status, systems in owners.items()}
