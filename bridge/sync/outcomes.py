"""What a create that was started came to, recorded on the engine's thread.

Created: its result, linked when the page commits. Refused (a ``RecordError``): set aside
in quarantine. Not confirmed (a 5xx, a lost answer): owed to a later cycle, which looks it
up by reference first, and set aside after ``max_create_attempts``. Rate-limited or
stopping: raised, the whole page stops. ``Tally`` counts a page's outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from structlog.typing import FilteringBoundLogger

from bridge.errors import (
    AttachmentUnavailable,
    RateLimited,
    RecordError,
    RetryableError,
    ShuttingDown,
)
from bridge.ledger import CreateResult
from bridge.sync.anonymity_gate import identity_sent
from bridge.sync.inflight import Outcome
from bridge.sync.plan import Create
from bridge.sync.quarantine import quarantine
from bridge.sync.report import CycleReport, PlannedLine, line_for
from bridge.sync.route import Route

# Logged as the engine's: these are steps of its cycle.
log = structlog.get_logger("bridge.engine")


@dataclass(frozen=True)
class Owed:
    """A create not confirmed this cycle: the record stays pending, the cursor waits for it."""

    ref: str
    error: BaseException


Sent = CreateResult | Owed | None
"""What a send did: created or linked; owed to a later cycle; or quarantined (None)."""

# Creates in a row left unconfirmed after which the target, not a record, is taken to be failing.
FAILING_SYSTEM = 10

GAVE_UP = (
    "{target} did not confirm this complaint after {attempts} tries (last: {error}); it may "
    "or may not be there. `bridge quarantine retry` looks it up by reference before sending"
)


@dataclass
class Tally:
    """What the sends of one page delivered so far."""

    results: list[CreateResult] = field(default_factory=list)
    owes: bool = False
    """A create was left unconfirmed: the page's cursor must wait."""
    owed_in_a_row: int = 0

    def add(self, sent: Sent) -> None:
        if isinstance(sent, Owed):
            self.owes = True
            self.owed_in_a_row += 1
            if self.owed_in_a_row >= FAILING_SYSTEM:
                # Not one record's trouble: the target is failing. Stop, keep what was done.
                raise sent.error
            return
        self.owed_in_a_row = 0
        if sent is not None:
            self.results.append(sent)


def outcome(
    route: Route,
    action: Create,
    future: Outcome[str],
    report: CycleReport,
    bound: FilteringBoundLogger,
) -> Sent:
    """What a started create came to, recorded on the engine's thread.

    ``bound`` is the engine's logger with the route bound, once per page: binding it for
    each line (what a module's logger does) cost as much as a regex pass over the text.
    """
    ref = action.ref
    try:
        target_id = future.result()
    except AttachmentUnavailable as exc:
        if exc.transient:  # a 5xx or a dead host: another cycle may fetch it
            return _owed(route, action, exc, report)
        return _refused(route, action, exc, report)
    except RecordError as exc:
        return _refused(route, action, exc, report)
    except (RateLimited, ShuttingDown):
        # The system asks the whole route to slow down, or the bridge is stopping: not
        # this record's trouble, and the rest of the page must wait too.
        raise
    except RetryableError as exc:
        return _owed(route, action, exc, report)
    _check_lease_after_create(route, ref, target_id)
    line = line_for(action)
    report.add(PlannedLine(line.action, line.source_id, ref, target_id, ticket=line.ticket))
    bound.info("complaint.created", ref=ref, target_id=target_id)
    sent = action.outgoing
    identity = identity_sent(route, sent.complaint, sent.payload)
    return CreateResult(ref, route.target.name, target_id, sent.target_hash, False, identity)


def _refused(route: Route, action: Create, error: RecordError, report: CycleReport) -> Sent:
    route.memory.fail_create(action.ref, str(error))
    quarantine(route, action.observation, error.reason, error.field, report)
    return None


def _owed(route: Route, action: Create, error: BaseException, report: CycleReport) -> Sent:
    """Keep an unconfirmed create pending for the next cycle, or give up after enough tries."""
    ref, observation = action.ref, action.observation
    message = f"{type(error).__name__}: {error}"
    route.memory.fail_create(ref, message)
    pending = route.memory.pending_creates([ref]).get(ref)
    attempts = pending.attempts if pending is not None else 1
    if attempts >= route.max_create_attempts:
        reason = GAVE_UP.format(target=route.target.name, attempts=attempts, error=message)
        quarantine(route, observation, reason, None, report)
        return None
    report.add(PlannedLine("unconfirmed", observation.source_id, ref, reason=message))
    log.warning("complaint.unconfirmed", route=route.name, ref=ref, attempt=attempts, error=message)
    return Owed(ref, error)


def wait_for_predecessor(route: Route, ref: str) -> None:
    """``RetryableError`` while a gone holder's create of ``ref`` may still reach the target."""
    until = route.memory.resend_wait()
    if until is None:
        return
    pending = route.memory.pending_creates([ref]).get(ref)
    if pending is None or pending.sent_at is None or route.memory.never_started(pending):
        return  # never sent: nothing on its way
    raise RetryableError(
        f"route {route.name} was taken over from a bridge that died on this machine, and "
        f"its create of {ref} may still be on its way to {route.target.name}: it is looked "
        f"up again, and only then sent, from {until.isoformat(timespec='seconds')}"
    )


def _check_lease_after_create(route: Route, ref: str, target_id: str) -> None:
    """Say loudly when the route changed hands while this create was in flight.

    The new holder may then have found nothing by reference and created the complaint
    again: the one place where a double can still arise (bridge.ledger.leases). The
    page's next ledger write fails with ``LeaseLost``, so nothing more is written.
    """
    if not route.memory.still_holds():
        log.warning(
            "complaint.create.outlived_lease",
            route=route.name,
            ref=ref,
            target_id=target_id,
            hint=f"another replica took the route meanwhile: check {route.target.name} "
            "for a second record carrying this reference",
        )
