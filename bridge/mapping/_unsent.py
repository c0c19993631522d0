"""What a system takes no field for on create is not lost: it is written into the text.

``[mapping] unsent_note = "content"`` appends one short line to that text field naming the
complaint's original date (``created_at``) and its status in the system it came from, each
only when this mapping does not write that field itself. LAPOR!'s create (#2) has neither, so
without it a complaint filed weeks ago looks new there and its local progress is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from bridge.model import Complaint

NOTE_TARGETS = ("content", "title")
"""The canonical text fields the note may be appended to."""

CARRIED = ("created_at", "status")
"""The canonical fields the note carries when the mapping does not write them."""


def unsent_line(
    complaint: Complaint, unwritten: Mapping[str, bool], zone: ZoneInfo, origin: str
) -> str | None:
    """The note for ``complaint`` ("Tanggal pengaduan asli: …; status di …: …"), or None."""
    parts = []
    if unwritten.get("created_at") and complaint.created_at is not None:
        try:
            local = complaint.created_at.astimezone(zone)
        except OverflowError:  # a date at the very edge of the calendar: shown as it is
            local = complaint.created_at
        parts.append(f"Tanggal pengaduan asli: {local:%d-%m-%Y %H:%M} {local.tzname()}")
    status = complaint.raw_status.label or complaint.raw_status.code
    if status is None and complaint.status is not None:
        status = complaint.status.value
    if unwritten.get("status") and status:
        parts.append(f"status di {origin}: {status}")
    return "; ".join(parts) or None


def noted_text(text: str, line: str | None) -> str | None:
    """``text`` with the note ``line`` appended after a blank line; None when it stays as is."""
    if line is None or line in text:  # never twice, should a complaint pass through again
        return None
    return f"{text}\n\n{line}"
