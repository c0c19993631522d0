"""An *anonim* complaint as it may leave its source, and a citizen's reply to one.

The structured reporter is dropped (``Complaint.without_identity``), and, unless the
route says otherwise (``[routes.privacy]``), the reporter's identity is scrubbed from the
title, the text and the attachments' file names, and the address and coordinates stay
home (the region codes a target needs to route the complaint do go).

A citizen's follow-ups leave without their author's name and, like the complaint, with the
reporter's identity scrubbed from text and file names; an officer's (official) keeps its
author and has only the reporter's identity scrubbed. Their fingerprint is taken from this form
on both sides (``bridge.sync.followups``), so a scrubbed copy coming back is no echo.
"""

from __future__ import annotations

from bridge.model import Complaint, FollowUp
from bridge.privacy.identity import scrub_file_name, scrub_identity

IDENTITY_FIELDS = (
    "reporter",
    "title",
    "content",
    "attachments",
    "location.address",
    "location.lat",
    "location.lng",
)
"""The canonical fields ``anonymous`` may change: nothing else of a complaint can carry its
reporter's identity to a target (a test holds ``anonymous`` to this list)."""


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


def anonymous_reply(complaint: Complaint, followup: FollowUp, *, scrub_text: bool) -> FollowUp:
    """A follow-up of an anonim complaint without the reporter's identity in its text and file
    names (if asked), and without its author unless an officer wrote it: a citizen replies
    under their own name."""
    if not complaint.is_anonymous:
        return followup
    # An officer's answer (official) is not the citizen's: its author stays, and only the
    # reporter's identity is scrubbed from it. Masking the officer's name too turned
    # "Tanggapan petugas PUPR" into markers (the chaos test caught it).
    official = followup.is_official
    update: dict[str, object] = {} if official else {"author": None}
    if scrub_text:
        names = (
            (complaint.reporter.name,) if official else (complaint.reporter.name, followup.author)
        )
        update["content"] = scrub_identity(followup.content, names)
        update["attachments"] = tuple(
            a.model_copy(update={"filename": scrub_file_name(a.filename, names)})
            for a in followup.attachments
        )
    return followup.model_copy(update=update)
