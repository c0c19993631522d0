"""Creating complaints in the target: the outgoing form, the recorded intent, the send.

``bridge.engine`` commits each intent (``intent``) before it calls ``deliver``. A
create that may already have happened (a ``Resume``: its answer was lost, or the
process died) is first looked for by the bridge's reference, and only sent when the
target does not have it; a target that cannot be searched sets it aside for a person
instead of guessing. A backfill's matches (``CycleOptions.adopt``) are adopted too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import structlog

from bridge import storable
from bridge.connector import Connector, NativeRecord
from bridge.cycle import CycleOptions, CycleReport, PlannedLine, Route
from bridge.errors import (
    AttachmentUnavailable,
    RateLimited,
    RecordError,
    RetryableError,
    ShuttingDown,
)
from bridge.ledger import CreateIntent, CreateResult
from bridge.model import Attachment, Complaint, content_hash, made_by, make_ref
from bridge.plan import Action, Create, Resume
from bridge.setaside import set_aside

# Logged as the engine's: these are steps of its cycle (bridge.setaside does the same).
log = structlog.get_logger("bridge.engine")


@dataclass(frozen=True)
class Prepared:
    """A create ready to go: the target's native payload, and the hash of what it carries."""

    action: Create | Resume
    payload: NativeRecord
    attachments: tuple[Attachment, ...]
    target_hash: str


def natural_key_text(key: Sequence[str]) -> str:
    """A natural key as one string, the form ``CycleOptions.adopt`` is keyed by."""
    return "\x1f".join(key)


def existing_copy(route: Route, action: Create | Resume, options: CycleOptions) -> str | None:
    """The id of a record already in the target that is this complaint (backfill adoption).

    Matched by the bridge's reference, else by an exact match on the fields the
    target's mapping names as its natural key (complaints typed in by hand).
    """
    if not options.adopt:
        return None
    found = options.adopt.get(action.ref)
    complaint = action.observation.complaint
    if found is None and complaint is not None:
        key = route.target_mapping.natural_key_of(complaint)
        found = options.adopt.get(natural_key_text(key)) if key else None
    return found


def prepare_all(route: Route, actions: Sequence[Action], report: CycleReport) -> Iterator[Prepared]:
    """The creates and resumes of a page, mapped for the target; one that cannot be is set aside."""
    for action in actions:
        if not isinstance(action, Create | Resume):
            continue
        complaint = action.observation.complaint
        assert complaint is not None  # the planner only creates mapped records
        leaving = outgoing(complaint, action.ref)
        try:
            payload = route.target_mapping.to_native(leaving)
        except RecordError as exc:
            set_aside(route, action.observation, exc.reason, exc.field, report)
            continue
        yield Prepared(action, payload, leaving.attachments, content_hash(leaving))


def outgoing(complaint: Complaint, ref: str) -> Complaint:
    """The complaint as it may leave its source: anonymity honoured, reference stamped."""
    if complaint.is_anonymous:
        complaint = complaint.without_identity()
    # The reference travels as a tag too, so any system that keeps tags carries it back.
    tags = complaint.tags if ref in complaint.tags else (*complaint.tags, ref)
    return complaint.model_copy(update={"ref": ref, "tags": tags})


def intent(route: Route, item: Prepared) -> CreateIntent:
    observation = item.action.observation
    complaint = observation.complaint
    assert complaint is not None
    return CreateIntent(
        ref=item.action.ref,
        origin_system=route.source.name,
        origin_id=observation.source_id,
        source_hash=observation.seen_hash or "",
        target_system=route.target.name,
        raw_status_code=complaint.raw_status.code,
        raw_status_label=complaint.raw_status.label,
        status=complaint.status.value if complaint.status else None,
    )


UNCONFIRMED = (
    "an earlier create in {target} was never confirmed and {target} cannot be searched by "
    "reference: check {target} by hand before this complaint is sent again"
)

GAVE_UP = (
    "{target} did not confirm this complaint after {attempts} tries (last: {error}); it may "
    "or may not be there. `bridge quarantine retry` looks it up by reference before sending"
)


@dataclass(frozen=True)
class Owed:
    """A create not confirmed this cycle: the record stays pending, the cursor waits for it."""

    ref: str
    error: BaseException


Delivered = CreateResult | Owed | None
"""What ``deliver`` did: created or adopted; owed to a later cycle; or set aside (None)."""


def deliver(route: Route, item: Prepared, report: CycleReport, options: CycleOptions) -> Delivered:
    """Create one complaint in the target, or adopt the one an earlier attempt made.

    A failure of this one record (a lost answer, a 5xx, an attachment that cannot be
    fetched right now) never stops the page: the record is owed to the next cycle,
    where it is looked up by reference first, and set aside after ``max_create_attempts``.
    """
    ref = item.action.ref
    source_id = item.action.observation.source_id
    if isinstance(item.action, Resume) and not route.target.can_find_by_ref:
        # Neither re-create (it may exist) nor drop it (it may not): a person decides.
        reason = UNCONFIRMED.format(target=route.target.name)
        set_aside(route, item.action.observation, reason, None, report)
        return None
    adopted_id = copy_in_target(route, item.action, options)
    if adopted_id is not None:
        report.add(PlannedLine("link", source_id, ref, adopted_id, ticket=_ticket(item)))
        log.info("complaint.adopted", route=route.name, ref=ref, target_id=adopted_id)
        return CreateResult(ref, route.target.name, adopted_id, item.target_hash, adopted=True)
    if isinstance(item.action, Resume):
        _wait_for_predecessor(route, ref)
    try:
        attachments = tuple(_with_content(route.source, a) for a in item.attachments)
        if options.before_create is not None:
            options.before_create()  # a rate limit, which may wait: the fence check comes after
        # The last thing before the request: never create for a route another replica took,
        # renew the lease for a whole TTL so a slow create keeps it, and note the sending
        # for a successor (see bridge.ledger.leases on the window left).
        route.ledger.creates.sending(route.name, ref, route.target.name)
        created = route.target.create(item.payload, attachments, ref)
        target_id = storable.checked_remote_id(created, route.target.name)
    except AttachmentUnavailable as exc:
        if exc.transient:  # a 5xx or a dead host: another cycle may fetch it
            return _owed(route, item, exc, report)
        route.ledger.creates.fail(route.name, ref, route.target.name, str(exc))
        set_aside(route, item.action.observation, exc.reason, exc.field, report)
        return None
    except RecordError as exc:
        route.ledger.creates.fail(route.name, ref, route.target.name, str(exc))
        set_aside(route, item.action.observation, exc.reason, exc.field, report)
        return None
    except (RateLimited, ShuttingDown):
        # The system asks the whole route to slow down, or the bridge is stopping: not
        # this record's trouble, and the rest of the page must wait too.
        raise
    except RetryableError as exc:
        return _owed(route, item, exc, report)
    _check_lease_after_create(route, ref, target_id)
    report.add(PlannedLine("create", source_id, ref, target_id, ticket=_ticket(item)))
    log.info("complaint.created", route=route.name, ref=ref, target_id=target_id)
    return CreateResult(ref, route.target.name, target_id, item.target_hash, adopted=False)


def found_copies(
    route: Route, prepared: Sequence[Prepared], report: CycleReport, options: CycleOptions
) -> Iterator[Prepared]:
    """The creates whose complaint the target already holds, turned into look-ups (rebuild).

    Their ``deliver`` then links what it finds; the others are reported ``not_found``.
    """
    for item in prepared:
        action = item.action
        if route.target.can_find_by_ref and look_up(route, action):
            yield dataclasses.replace(item, action=Resume(action.ref, action.observation))
        elif existing_copy(route, action, options):
            yield item
        else:
            source_id = action.observation.source_id
            report.add(PlannedLine("not_found", source_id, action.ref, ticket=_ticket(item)))


def copy_in_target(route: Route, action: Create | Resume, options: CycleOptions) -> str | None:
    """The target's id of a copy this complaint already has: a ``Resume`` is searched for
    by reference, and either may be in the cycle's adoption index (``existing_copy``)."""
    found = look_up(route, action) if isinstance(action, Resume) else None
    return found or existing_copy(route, action, options)


def look_up(route: Route, action: Create | Resume) -> str | None:
    """The target's id of an earlier copy of this complaint, found by its reference.

    A complaint first seen before the installation was named may have been sent under
    the older form of its reference: that one is looked for too.
    """
    found = route.target.find_by_ref(action.ref)
    older = make_ref(route.source.name, action.observation.source_id)
    if found is None and older != action.ref and made_by(action.ref, route.installation):
        found = route.target.find_by_ref(older)
    return found


def _owed(route: Route, item: Prepared, error: BaseException, report: CycleReport) -> Delivered:
    """Keep an unconfirmed create pending for the next cycle, or give up after enough tries."""
    ref, observation = item.action.ref, item.action.observation
    message = f"{type(error).__name__}: {error}"
    route.ledger.creates.fail(route.name, ref, route.target.name, message)
    pending = route.ledger.creates.pending(route.name, route.target.name, [ref]).get(ref)
    attempts = pending.attempts if pending is not None else 1
    if attempts >= route.max_create_attempts:
        reason = GAVE_UP.format(target=route.target.name, attempts=attempts, error=message)
        set_aside(route, observation, reason, None, report)
        return None
    report.add(PlannedLine("unconfirmed", observation.source_id, ref, reason=message))
    log.warning("complaint.unconfirmed", route=route.name, ref=ref, attempt=attempts, error=message)
    return Owed(ref, error)


def _wait_for_predecessor(route: Route, ref: str) -> None:
    """``RetryableError`` while a gone holder's create of ``ref`` may still reach the target."""
    until = route.ledger.leases.resend_wait(route.name)
    if until is None:
        return
    pending = route.ledger.creates.pending(route.name, route.target.name, [ref]).get(ref)
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
    if not route.ledger.leases.still_holds(route.name):
        log.warning(
            "complaint.create.outlived_lease",
            route=route.name,
            ref=ref,
            target_id=target_id,
            hint=f"another replica took the route meanwhile: check {route.target.name} "
            "for a second record carrying this reference",
        )


def _ticket(item: Prepared) -> str | None:
    complaint = item.action.observation.complaint
    return complaint.ticket if complaint is not None else None


def _with_content(source: Connector, attachment: Attachment) -> Attachment:
    if attachment.content is not None:
        return attachment
    content = source.download(attachment)
    return attachment.model_copy(update={"content": content, "size": len(content)})
