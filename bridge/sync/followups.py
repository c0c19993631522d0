"""A linked complaint's follow-ups (*tindak lanjut*), copied from a route's source to its target.

Each follow-up is identified by a fingerprint of its content, so a follow-up the bridge
itself copied is recognised when it comes back (no echo), and a system repeating the same
follow-up is not copied twice. The intent to copy is committed before the remote write;
an unconfirmed copy is looked for on the target first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import structlog

from bridge.errors import RecordError
from bridge.mapping import followup_fingerprint
from bridge.model import Complaint, FollowUp
from bridge.sync.anonymity import anonymous_reply

if TYPE_CHECKING:
    from bridge.sync.report import CycleReport
    from bridge.sync.route import Route
    from bridge.sync.updates import LinkedItem

log = structlog.get_logger("bridge.linked")


def sync_followups(
    route: Route, item: LinkedItem, complaint: Complaint, report: CycleReport
) -> None:
    """Copy the follow-ups of ``complaint`` the target does not hold yet."""
    source = route.source
    observed = _read_followups(
        route, item, complaint, source.followups(item.source_id), source.name
    )
    known = _known(route, item.ref)
    recorded = {f.fingerprint for f in known if _done(f.copies.get(source.name))}
    if not recorded.issuperset(observed):
        # Only a follow-up the ledger has not seen here costs a write (an idle re-poll doesn't).
        route.memory.note_followups(
            item.ref, source.name, [(fp, f.source_id) for fp, f in observed.items()]
        )
        known = _known(route, item.ref)
    target = route.target.name
    copies = {f.fingerprint: f.copies.get(target) for f in known}
    unconfirmed = {fp for fp, copy in copies.items() if copy is not None and copy.state != "done"}
    missing = [fp for fp in observed if copies.get(fp) is None or fp in unconfirmed]
    if missing:
        missing = _confirm_on_target(route, item, complaint, missing, unconfirmed)
    todo = [
        (fp, outgoing_followup(complaint, observed[fp]))
        for fp in missing
        if _may_copy(route, observed[fp])
    ]
    if todo:
        _copy_followups(route, item, todo, report)


def _done(copy: Any) -> bool:
    return copy is not None and copy.state == "done"


def _known(route: Route, ref: str) -> list[Any]:
    return list(route.memory.followups_of([ref]).get(ref, []))


def _read_followups(
    route: Route,
    item: LinkedItem,
    complaint: Complaint,
    natives: Iterable[dict[str, Any]],
    system: str,
) -> dict[str, FollowUp]:
    """Fingerprint → follow-up as it may leave, in the system's order; repeats collapse.

    A follow-up of an anonim complaint is fingerprinted as it leaves (its reporter's
    identity scrubbed), on both sides: the copy is then recognised, never echoed.
    """
    mapping = route.source_mapping if system == route.source.name else route.target_mapping
    found: dict[str, FollowUp] = {}
    for native in natives:
        try:
            followup = mapping.followup_to_canonical(dict(native))
        except RecordError as exc:
            route.memory.flag_for_review(
                item.ref, system, "followup", exc.reason, {"field": exc.field}
            )
            continue
        followup = anonymous_reply(complaint, followup, scrub_text=route.scrub_anonymous_text)
        found.setdefault(followup_fingerprint(followup), followup)
    return found


def _confirm_on_target(
    route: Route, item: LinkedItem, complaint: Complaint, missing: list[str], unconfirmed: set[str]
) -> list[str]:
    """What the target already shows is not copied again; the rest is still missing.

    A copy started but never confirmed (a crash, a lost answer) is completed; one the
    ledger never heard of (a lost or restored ledger) is noted as there. Content decides,
    as it does everywhere here, so a ledger's memory is never the only guard.
    """
    target = route.target
    on_target = _read_followups(
        route, item, complaint, target.followups(item.target_id), target.name
    )
    found = [(fp, on_target[fp].source_id) for fp in missing if fp in on_target]
    adopted = [(fp, remote_id) for fp, remote_id in found if fp in unconfirmed]
    if adopted:
        route.memory.complete_followups(item.ref, adopted)
    if already := [(fp, remote_id) for fp, remote_id in found if fp not in unconfirmed]:
        route.memory.note_followups(item.ref, target.name, already)
    found_fps = {fp for fp, _ in found}
    return [fp for fp in missing if fp not in found_fps]


def outgoing_followup(complaint: Complaint, followup: FollowUp) -> FollowUp:
    """``followup`` as it may leave: secret (LAPOR!'s ``is_secret``) when its complaint is rahasia.

    The fingerprint is taken before, from the follow-up as its source shows it.
    """
    if complaint.is_secret and not followup.is_secret:
        return followup.model_copy(update={"is_secret": True})
    return followup


def _may_copy(route: Route, followup: FollowUp) -> bool:
    # A confidential follow-up goes only where confidential complaints may go.
    return not followup.is_secret or route.target.receives_confidential


def _copy_followups(
    route: Route, item: LinkedItem, todo: list[tuple[str, FollowUp]], report: CycleReport
) -> None:
    route.memory.record_followup_intents(item.ref, [fp for fp, _ in todo])
    done: list[tuple[str, str | None]] = []
    refused: RecordError | None = None
    try:
        for fingerprint, followup in todo:
            try:
                payload = route.target_mapping.followup_to_native(followup)
                files = [route.source.download(a) for a in followup.attachments]
                attachments = [
                    a.model_copy(update={"content": c, "size": len(c)})
                    for a, c in zip(followup.attachments, files, strict=True)
                ]
                route.memory.check_fence()
                remote_id = route.target.add_followup(item.target_id, payload, attachments)
            except RecordError as exc:
                route.memory.fail_followup(item.ref, fingerprint, exc.reason)
                report.counts["followup_failed"] += 1
                refused = exc
                continue
            done.append((fingerprint, remote_id))
            report.counts["followup"] += 1
            log.info("followup.copied", route=route.name, ref=item.ref, target_id=remote_id)
    finally:
        if done:
            route.memory.complete_followups(item.ref, done)
    if refused is not None:
        raise refused  # the others went through; this one is flagged and retried
