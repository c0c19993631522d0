"""The ``servicerequestupdates`` extension as mySociety's open311-adapter serves it.

Held against its code (github.com/mysociety/open311-adapter, commit 4d3a40d,
``perllib/Open311/Endpoint/Role/mySociety.pm``): every call is checked against an Rx
record schema, so a parameter it does not list is refused (400 "Error in input for …"),
``service_request_id`` on the listing included. A posted update needs ``update_id``,
an upper-case extended ``status``, ``updated_datetime`` and ``description`` (which may be
empty), and is answered with the *server's* own ``update_id``, not the client's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bridge.testing.simulators.open311_errors import Open311Error

CLOSED = {"CLOSED", "FIXED", "DUPLICATE", "NOT_COUNCILS_RESPONSIBILITY", "NO_FURTHER_ACTION"}
OPEN = {
    "OPEN",
    "IN_PROGRESS",
    "ACTION_SCHEDULED",
    "INVESTIGATING",
    "INTERNAL_REFERRAL",
    "PLANNED",
    "REOPEN",
    "FOR_TRIAGE",
    "UNCHANGED",
}
LISTING_KEYS = {"jurisdiction_id", "api_key", "start_date", "end_date"}
REQUIRED = {"service_request_id", "update_id", "status", "updated_datetime", "description"}
OPTIONAL = {
    "email",
    "phone",
    "last_name",
    "first_name",
    "title",
    "media_url",
    "account_id",
    "service_request_id_ext",
    "public_anonymity_required",
    "email_alerts_requested",
    "service_code",
}
"""Besides ``api_key`` and ``jurisdiction_id`` (checked before) and ``attribute[…]``."""
_ATTRIBUTE = re.compile(r"^attribute\[\w+\]$")


def check_listing(keys: Iterable[str]) -> None:
    """Refuse a listing parameter the adapter's schema does not list."""
    extra = sorted(set(keys) - LISTING_KEYS)
    if extra:
        raise Open311Error(
            400, f"Error in input for GET_Service_Request_Updates: unexpected {', '.join(extra)}"
        )


def posted_update(fields: dict[str, Any]) -> dict[str, Any]:
    """A posted update checked as the adapter does: its status mapped to open/closed, and
    its ``update_id`` dropped, so the simulator answers with its own."""
    missing = sorted(REQUIRED - fields.keys())
    extra = sorted(k for k in fields.keys() - REQUIRED - OPTIONAL if not _ATTRIBUTE.match(k))
    if missing or extra or not fields.get("update_id"):
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unexpected {', '.join(extra)}"] if extra else []
        detail = "; ".join(problems) or "update_id is empty"
        raise Open311Error(400, f"Error in input for POST_Service_Request_Update: {detail}")
    status = str(fields["status"])
    if status not in CLOSED | OPEN:
        known = ", ".join(sorted(CLOSED | OPEN))
        raise Open311Error(400, f"status must be one of {known}")
    kept = {k: v for k, v in fields.items() if k != "update_id"}
    return {**kept, "status": "closed" if status in CLOSED else "open"}
