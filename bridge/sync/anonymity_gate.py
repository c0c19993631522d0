"""An anonymity learnt too late: a complaint copied with its reporter's identity, anonim now.

A door's officer ticks *anonim* after the complaint went to LAPOR!, or a door mapping
gains the app's ``anonim`` column: every later copy leaves scrubbed (``bridge.sync.
anonymity``), but the first copy already carried the reporter's identity. The bridge
notes at send time which of the target's fields carried it (``identity_sent``, names
only, on the ``complaint.created`` history line), and when it later sees the complaint
anonymous asks a person, once, to remove or mask the reporter there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from bridge.errors import RecordError
from bridge.model import Complaint
from bridge.sync.anonymity import IDENTITY_FIELDS, anonymous

if TYPE_CHECKING:
    from bridge.connector import NativeRecord
    from bridge.mapping import Mapping
    from bridge.sync.report import CycleReport
    from bridge.sync.route import Route
    from bridge.sync.updates import LinkedItem

log = structlog.get_logger("bridge.privacy")

KIND = "anonymity"
ANONYMITY_FLAG = ("is_anonymous",)

SENT_WITH_IDENTITY = (
    "the complaint is anonim at {source} now, but the bridge copied it to {target} before "
    "that, with the reporter's identity in: {fields}. Later copies leave without it. "
    "Remove or mask the reporter in {target}'s record (`bridge trace {ref}` shows which), "
    "then resolve this flag"
)


def identity_sent(route: Route, leaving: Complaint, payload: NativeRecord) -> tuple[str, ...]:
    """The target's fields of ``payload`` that carry the reporter's identity (names only).

    Those that an anonymous copy of ``leaving`` would have written differently or not at
    all; none for a complaint that leaves anonymous already. Only the keys the target's
    mapping writes the identity fields under are mapped again (``Mapping.written_from``,
    worked out once per mapping): every other key an anonymous copy writes alike.
    """
    if leaving.is_anonymous:
        return ()
    mapping, origin = route.target_mapping, route.source.name
    bare = anonymous(
        leaving,
        scrub_text=route.scrub_anonymous_text,
        keep_location=route.send_anonymous_location,
    )
    try:
        hidden = mapping.to_native_part(bare, IDENTITY_FIELDS, origin=origin)
        flag = _flagged(mapping, leaving, origin)
    except RecordError:
        # Cannot tell field by field: every field the copy wrote may carry it.
        return tuple(sorted(k for k, v in payload.items() if v not in (None, "")))
    return tuple(
        sorted(
            key
            for key in mapping.written_from(IDENTITY_FIELDS)
            if (value := payload.get(key)) not in (None, "")
            and hidden.get(key) != value
            and (flag is None or flag.get(key) == value)
        )
    )


def _flagged(mapping: Mapping, leaving: Complaint, origin: str) -> NativeRecord | None:
    """The identity's keys as a copy of ``leaving`` flagged anonim writes them, or None
    when the flag is written under none of them (LAPOR!): then they are the payload's own.

    A key whose value differs in the flag alone carries no identity. Every rule under
    those keys reads its own field, so only the flag's own rule can make them differ.
    """
    if not set(mapping.written_from(ANONYMITY_FLAG)) & set(mapping.written_from(IDENTITY_FIELDS)):
        return None
    flagged = leaving.model_copy(update={"is_anonymous": True})
    return mapping.to_native_part(flagged, IDENTITY_FIELDS, origin=origin)


def flag_identity_sent(
    route: Route, item: LinkedItem, complaint: Complaint, report: CycleReport
) -> None:
    """Flag ``complaint`` (once) when it is anonim now but its copy carried the identity."""
    if not complaint.is_anonymous:
        return
    trace = route.memory.trace(item.ref)
    if trace is None:
        return
    target = route.target.name
    fields: list[str] = []
    for event in trace.events:
        if event.system != target:
            continue
        if event.kind == "review.flagged" and event.data().get("kind") == KIND:
            return  # flagged once already; a person resolves it, it does not come back
        if event.kind == "complaint.created":
            sent = event.data().get("identity_sent")
            fields = [str(f) for f in sent] if isinstance(sent, list) else []
    if not fields:
        return
    reason = SENT_WITH_IDENTITY.format(
        source=route.source.name, target=target, fields=", ".join(fields), ref=item.ref
    )
    detail = {"source_id": item.source_id, "fields": fields}
    route.memory.flag_for_review(item.ref, target, KIND, reason, detail)
    report.counts["review"] += 1
    log.warning("complaint.anonymity.late", route=route.name, ref=item.ref, fields=fields)
