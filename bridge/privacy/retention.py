"""Retention of set-aside payloads: what the ledger forgets after N days.

A quarantined record keeps its row, id, (masked) reason and attempts for good, so a
person still sees that it was set aside; only its stored payload is replaced, after
``[ledger] quarantine_retention_days``, by a marker holding a digest of what was there.
The digest lets a cycle still recognise the record as unchanged (no create attempt every
cycle); a retry re-reads the record from its source, never from the ledger.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

_MARK = "purged_at"


def purged_marker(record_json: str, at: datetime) -> str:
    """What a purged payload becomes: when, and a digest of the masked copy (no value)."""
    digest = hashlib.sha256(record_json.encode()).hexdigest()
    return json.dumps({_MARK: at.isoformat(), "sha256": digest}, sort_keys=True)


def is_purged(record_json: str) -> bool:
    """Whether a stored payload is a purge marker."""
    return record_json.startswith("{") and f'"{_MARK}"' in record_json[:40]


def same_record(stored: str, candidate: str) -> bool:
    """Whether ``candidate`` (a masked copy) is what ``stored`` holds, or held before a purge."""
    if stored == candidate:
        return True
    if not is_purged(stored):
        return False
    try:
        digest = json.loads(stored).get("sha256")
    except ValueError:
        return False
    return bool(digest == hashlib.sha256(candidate.encode()).hexdigest())
