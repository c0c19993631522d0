"""An *anonim* complaint as it may leave its source, and a citizen's reply to one.

The structured reporter is dropped (``Complaint.without_identity``), and, unless the
route says otherwise (``[routes.privacy]``), the reporter's identity is scrubbed from the
title, the text and the attachments' file names, and the address and coordinates stay
home (the region codes a target needs to route the complaint do go).

Follow-ups leave without their author's name; their text is not rewritten, because the
follow-up's fingerprint (its text) is what recognises it when it comes back (no echo).
"""

from __future__ import annotations

from bridge.model import Complaint, FollowUp
from bridge.privacy.identity import scrub_file_name, scrub_identity


def anonymous(complaint: Complaint, *, scrub_text: bool, keep_location: bool) -> Complaint:
    """``complaint`` (anonim) without its reporter's identity."""
    names = (complaint.reporter.name,)
    bare = complaint.without_identity()
    update: dict[str, object] = {}
    if scrub_text:
        update["title"] = scrub_identity(bare.title, names)
        update["content"] = scrub_identity(bare.content, names)
        update["attachments"] = tuple(
            a.model_copy(update={"filename": scrub_file_name(a.filename, names)})
            for a in bare.attachments
        )
    if not keep_location:
        update["location"] = bare.location.model_copy(
            update={"address": None, "lat": None, "lng": None}
        )
    return bare.model_copy(update=update)


def anonymous_reply(complaint: Complaint, followup: FollowUp) -> FollowUp:
    """A follow-up of an anonim complaint without its author's name (a citizen's reply)."""
    if not complaint.is_anonymous or followup.author is None:
        return followup
    return followup.model_copy(update={"author": None})
