"""Hashed reporter keys: the only reporter data the duplicate check compares.

A phone number, e-mail address or NIK is brought to one form (a phone's +62/62 prefix
becomes 0, an e-mail is lower-cased) and hashed with a key (HMAC-SHA256), so the ledger
holds no identifier in clear, and the same reporter through two doors yields the same
key. An anonymous complaint contributes no key: its identity is not used at all.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bridge.model import Complaint

_DIGITS = re.compile(r"\D+")

REPORTER_KINDS = ("phone", "email", "nik")
"""The identifiers compared, each as ``r:<kind>:<keyed hash>``."""


def reporter_keys(complaint: Complaint, secret: bytes) -> list[str]:
    """``r:<kind>:<hash>`` for each identifier of the reporter (none when anonymous)."""
    if complaint.is_anonymous:
        return []
    reporter = complaint.reporter
    found = {
        "phone": _phone(reporter.phone),
        "email": (reporter.email or "").strip().lower() or None,
        "nik": _DIGITS.sub("", reporter.nik or "") or None,
    }
    keys = []
    for kind, value in found.items():
        if value:
            digest = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
            keys.append(f"r:{kind}:{digest[:32]}")
    return keys


def _phone(phone: str | None) -> str | None:
    digits = _DIGITS.sub("", phone or "")
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 8 else None
