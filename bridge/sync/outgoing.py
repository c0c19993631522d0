"""A complaint as it leaves its source for a route's target.

``leaving`` applies what must hold for every copy (the reporter's identity removed when
the citizen asked for anonymity; the bridge's reference stamped in, so a lost create is
found again); ``outgoing`` maps the result to the target's native payload, or says why
the target's mapping cannot write it. ``bridge.sync.observe`` builds it for every record
that may go to the target, so the plan knows before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.connector import NativeRecord
from bridge.errors import RecordError
from bridge.model import Complaint, content_hash
from bridge.sync.anonymity import anonymous

if TYPE_CHECKING:
    from bridge.sync.route import Route


@dataclass(frozen=True)
class Outgoing:
    """A complaint as it would be created in the target: native payload and attachments."""

    complaint: Complaint
    """As it leaves its source (``leaving``): anonymity honoured, reference stamped."""
    payload: NativeRecord
    target_hash: str


@dataclass(frozen=True)
class Unwritable:
    """Why the target's mapping cannot write a record."""

    reason: str
    field: str | None


def leaving(
    complaint: Complaint,
    ref: str,
    *,
    scrub_text: bool = True,
    keep_location: bool = False,
) -> Complaint:
    """The complaint as it may leave its source: anonymity honoured, reference stamped."""
    if complaint.is_anonymous:
        complaint = anonymous(complaint, scrub_text=scrub_text, keep_location=keep_location)
    # The reference travels as a tag too, so any system that keeps tags carries it back.
    tags = complaint.tags if ref in complaint.tags else (*complaint.tags, ref)
    return complaint.model_copy(update={"ref": ref, "tags": tags})


def outgoing(route: Route, complaint: Complaint | None, ref: str) -> Outgoing | Unwritable:
    """``complaint`` as the route's target would receive it, or why its mapping cannot."""
    assert complaint is not None  # only mapped records may go to the target
    complaint = leaving(
        complaint,
        ref,
        scrub_text=route.scrub_anonymous_text,
        keep_location=route.send_anonymous_location,
    )
    try:
        payload = route.target_mapping.to_native(complaint, origin=route.source.name)
    except RecordError as exc:
        return Unwritable(exc.reason, exc.field)
    return Outgoing(complaint, payload, content_hash(complaint))
