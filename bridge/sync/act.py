"""Act: carry out a page's planned actions, then commit the page.

The order of writes is what makes "nothing lost, nothing doubled" hold:

1. quarantined records are stored with their reason (``bridge.sync.quarantine``);
2. the *intent* of every create and link is committed to the ledger before any remote
   write (``Sends``);
3. each create carries the bridge's reference into the remote record, so a create
   whose answer was lost (or whose process died) is found again by reference instead
   of being sent twice; a failure of one record never stops the page: the record is
   *owed* to the next cycle, and quarantined after ``max_create_attempts``;
4. links, hashes and the source cursor are committed together, after the remote writes,
   one page at a time: a run that keeps failing part-way still progresses, and a cursor
   never passes a record the ledger does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from bridge import storable
from bridge.connector import Connector
from bridge.errors import (
    AttachmentUnavailable,
    RateLimited,
    RecordError,
    RetryableError,
    ShuttingDown,
)
from bridge.ledger import CreateIntent, CreateResult, SeenUpdate
from bridge.model import Attachment, Complaint
from bridge.privacy.processing import personal_fields
from bridge.sync.adoption import Adoption, claim_links
from bridge.sync.observe import look_up
from bridge.sync.plan import (
    Action,
    AdoptCopy,
    Create,
    Link,
    NoteChange,
    Quarantine,
    Sends,
    Skip,
)
from bridge.sync.quarantine import quarantine, released
from bridge.sync.report import CycleReport, PlannedLine, line_for
from bridge.sync.route import CycleOptions, Route

# Logged as the engine's: these are steps of its cycle.
log = structlog.get_logger("bridge.engine")


@dataclass(frozen=True)
class Page:
    """How a page's commit treats the cursor and the complaints it owes a re-poll."""

    cursor: str | None
    """Where the source's cursor moves once the whole page went through (None: it stays)."""
    owed: Sequence[str]
    """Source ids whose content changed: due a re-poll until ``bridge.sync.updates`` ran."""
    quarantined: set[str]
    """Source ids quarantined before this page; those that went through are released."""


@dataclass(frozen=True)
class Owed:
    """A create not confirmed this cycle: the record stays pending, the cursor waits for it."""

    ref: str
    error: BaseException


# Creates in a row left unconfirmed after which the target, not a record, is taken to be failing.
FAILING_SYSTEM = 10


def act(
    route: Route, actions: Sequence[Action], page: Page, report: CycleReport, options: CycleOptions
) -> None:
    """Carry out ``actions`` (one page's plan) and commit the page. See the module docstring."""
    results: list[CreateResult] = []
    sends: list[Sends] = []
    for action in actions:
        match action:
            case Quarantine(observation=o, reason=reason, field=field_name):
                quarantine(route, o, reason, field_name, report)
            case Create() | Link():
                sends.append(action)
            case AdoptCopy():
                results.append(_adopt_copy(route, action, report))
            case NoteChange():
                pass  # reported once the page is committed
            case _:
                report.add(line_for(action))
    if sends:
        route.memory.record_intents([intent(route, a) for a in sends])
    # A record still owed (a create not confirmed, a look-up not yet due) holds the cursor.
    owes = any(isinstance(a, Skip) and a.owed for a in actions)
    finished = False
    try:
        owed_in_a_row = 0
        for action in sends:
            result = send(route, action, report, options)
            if isinstance(result, Owed):
                owes = True
                owed_in_a_row += 1
                if owed_in_a_row >= FAILING_SYSTEM:
                    # Not one record's trouble: the target is failing. Stop, keep what was done.
                    raise result.error
                continue
            owed_in_a_row = 0
            if result is not None:
                results.append(result)
        finished = True
    finally:
        # Whatever was delivered is committed even when the page stops part-way; the
        # cursor moves only when the whole page went through.
        cursor = page.cursor if finished and not owes else None
        route.memory.complete_page(
            results,
            cursor=cursor,
            seen=_seen_updates(actions),
            released=released(actions, results, page.quarantined) if finished else [],
            owed=page.owed,
        )
    for action in actions:
        if isinstance(action, NoteChange):
            report.add(line_for(action))


def intent(route: Route, action: Sends) -> CreateIntent:
    observation = action.observation
    complaint = observation.complaint
    assert complaint is not None
    return CreateIntent(
        ref=action.ref,
        origin_system=route.source.name,
        origin_id=observation.source_id,
        source_hash=observation.seen_hash or "",
        target_system=route.target.name,
        raw_status_code=complaint.raw_status.code,
        raw_status_label=complaint.raw_status.label,
        status=complaint.status.value if complaint.status else None,
        # A link sends nothing: no personal field leaves with it.
        personal=_personal(action.outgoing.complaint) if isinstance(action, Create) else (),
        anonymous=complaint.is_anonymous,
        secret=complaint.is_secret,
    )


def _personal(leaving: Complaint) -> tuple[str, ...]:
    """The personal fields the copy carries, by name, for the record of processing."""
    who, where = leaving.reporter, leaving.location
    return personal_fields(
        name=who.name,
        nik=who.nik,
        phone=who.phone,
        email=who.email,
        address=where.address,
        coordinates=where.lat is not None or where.lng is not None,
        attachments=len(leaving.attachments),
    )


GAVE_UP = (
    "{target} did not confirm this complaint after {attempts} tries (last: {error}); it may "
    "or may not be there. `bridge quarantine retry` looks it up by reference before sending"
)

Sent = CreateResult | Owed | None
"""What ``send`` did: created or linked; owed to a later cycle; or quarantined (None)."""


def settle(route: Route, action: Create, adoption: Adoption | None) -> Create | Link:
    """A create the target may hold already, searched for by reference: a copy found is
    linked, else the copy an adoption offered (``Create.adopt``), which is claimed then.

    Done just before the create is sent, so a page cut short wastes no search. The dry run
    settles its creates the same way, so it says what the run does.
    """
    found = look_up(route, action.ref, action.observation.source_id) if action.search_first else []
    if not found and action.adopt is not None:
        found = [action.adopt]
        claim_links(adoption, found)
    if found:
        return Link(action.ref, action.observation, action.outgoing, found[0])
    return action


def send(route: Route, action: Sends, report: CycleReport, options: CycleOptions) -> Sent:
    """Link one complaint to the copy the target holds, or create it there."""
    ref = action.ref
    if isinstance(action, Create):
        action = settle(route, action, options.adopt)
    if isinstance(action, Link):
        report.add(line_for(action))
        log.info("complaint.adopted", route=route.name, ref=ref, target_id=action.target_id)
        target_hash = action.outgoing.target_hash
        return CreateResult(ref, route.target.name, action.target_id, target_hash, adopted=True)
    if action.resend:
        _wait_for_predecessor(route, ref)
    try:
        leaving = action.outgoing.complaint
        attachments = tuple(_with_content(route.source, a) for a in leaving.attachments)
        if options.before_create is not None:
            options.before_create()  # a rate limit, which may wait: the fence check comes after
        # The last thing before the request: never create for a route another replica took,
        # renew the lease for a whole TTL so a slow create keeps it, and note the sending
        # for a successor (see bridge.ledger.leases on the window left).
        route.memory.sending_create(ref)
        created = route.target.create(action.outgoing.payload, attachments, ref)
        target_id = storable.checked_remote_id(created, route.target.name)
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
    log.info("complaint.created", route=route.name, ref=ref, target_id=target_id)
    target_hash = action.outgoing.target_hash
    return CreateResult(ref, route.target.name, target_id, target_hash, adopted=False)


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


def _wait_for_predecessor(route: Route, ref: str) -> None:
    """``RetryableError`` while a gone holder's create of ``ref`` may still reach the target."""
    until = route.memory.resend_wait()
    if until is None:
        return
    pending = route.memory.pending_creates([ref]).get(ref)
    if pending is not None and pending.sent_at is not None:  # never sent: nothing on its way
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


def _adopt_copy(route: Route, action: AdoptCopy, report: CycleReport) -> CreateResult:
    source_id = action.observation.source_id
    report.add(line_for(action))
    log.info("complaint.copy_adopted", route=route.name, ref=action.ref, source_id=source_id)
    seen = action.observation.seen_hash or ""
    return CreateResult(action.ref, route.source.name, source_id, seen, adopted=True)


def _seen_updates(actions: Sequence[Action]) -> list[SeenUpdate]:
    updates = []
    for action in actions:
        if isinstance(action, NoteChange) and action.observation.complaint is not None:
            raw = action.observation.complaint.raw_status
            seen = action.observation.seen_hash or ""
            updates.append(SeenUpdate(action.observation.source_id, seen, raw.code, raw.label))
    return updates


def _with_content(source: Connector, attachment: Attachment) -> Attachment:
    if attachment.content is not None:
        return attachment
    content = source.download(attachment)
    return attachment.model_copy(update={"content": content, "size": len(content)})
