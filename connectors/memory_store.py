"""Where memory connectors keep their records: stores, shared by name, and update times.

A ``MemoryStore`` is the remote system's state, with the switches tests use to make it
fail. Connectors configured with the same ``store`` name share one (``shared_store``),
so a test can "restart" the bridge and find the system it left behind. Every change to
a record moves its ``updated_at`` forward, never back (``bump``), so a cursor pull sees it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, TypeVar, cast

from bridge.connector import NativeRecord
from bridge.errors import BridgeError, RecordInvalid

Operation = Literal[
    "pull", "get", "create", "find_by_ref", "followups", "add_followup", "set_status", "forward"
]


@dataclass
class MemoryStore:
    """The remote system's state: records by id (insertion-ordered) and test switches."""

    records: dict[str, NativeRecord] = field(default_factory=dict)
    next_id: int = 1
    next_followup_id: int = 1
    creates: int = 0
    drop_response_after_create: bool = False
    failures: list[tuple[frozenset[str], BridgeError]] = field(default_factory=list)
    by_ref: dict[str, str] = field(default_factory=dict)
    """Bridge reference → id of the first record stored with it: ``find_by_ref`` without a scan."""

    def new_id(self) -> str:
        while (candidate := f"m-{self.next_id}") in self.records:
            self.next_id += 1
        self.next_id += 1
        return candidate

    def new_followup_id(self) -> str:
        self.next_followup_id += 1
        return f"f-{self.next_followup_id - 1}"

    def maybe_fail(self, operation: str) -> None:
        """Raise the first injected failure that targets ``operation``, consuming it."""
        for index, (operations, error) in enumerate(self.failures):
            if operation in operations:
                del self.failures[index]
                raise error


T = TypeVar("T")

# Values that no caller can change in place: shared by ``plain_copy``, never copied.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, datetime, date, time, Decimal})


def plain_copy(value: T) -> T:
    """A deep copy of JSON-like data, the memory connector's records and follow-ups.

    ``copy.deepcopy`` keeps a memo and goes through the reduce protocol for every
    value: most of the engine benchmark's time in this connector. Dicts and lists are
    copied here, immutable scalars shared (checked by exact type, inline, since most
    values are); anything else falls back to ``deepcopy``.
    """
    data: Any = value
    copied: Any
    if type(data) is dict:
        copied = {k: v if type(v) in _IMMUTABLE else plain_copy(v) for k, v in data.items()}
    elif type(data) is list:
        copied = [v if type(v) in _IMMUTABLE else plain_copy(v) for v in data]
    elif type(data) in _IMMUTABLE:
        copied = data
    else:
        copied = copy.deepcopy(data)
    return cast(T, copied)


_STORES: dict[str, MemoryStore] = {}


def shared_store(name: str) -> MemoryStore:
    """The shared store called ``name``, created empty on first use."""
    return _STORES.setdefault(name, MemoryStore())


def forget_shared_stores() -> None:
    """Forget every shared store (call between tests)."""
    _STORES.clear()


def _updated_at(record: NativeRecord) -> datetime:
    raw = record.get("updated_at")
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError:
        raise RecordInvalid(f"not an ISO timestamp: {raw!r}", field="updated_at") from None
    if value.utcoffset() is None:
        raise RecordInvalid("timestamp has no time zone", field="updated_at")
    return value


def bump(record: NativeRecord) -> None:
    """Set ``updated_at`` to now, or just after its old value when that is later (never back)."""
    now = datetime.now(UTC)
    try:
        previous = _updated_at(record)
    except RecordInvalid:
        previous = None  # a test put a malformed timestamp: replace it
    if previous is not None and previous >= now:
        now = previous + timedelta(microseconds=1)
    record["updated_at"] = now.isoformat()


def _readable_updated_at(record: NativeRecord) -> datetime | None:
    try:
        return _updated_at(record)
    except RecordInvalid:
        return None


def listed_since(record: NativeRecord, since: datetime) -> bool:
    # A record whose time cannot be compared is listed every time: the engine's mapping
    # sets it aside with the reason, where it is seen (it is never silently skipped).
    updated = _readable_updated_at(record)
    return updated is None or updated >= since


def cursor_key(record: NativeRecord) -> tuple[datetime, str]:
    # One record with an unreadable updated_at used to raise RecordInvalid out of pull()
    # and stop every cycle of the route; it is listed last instead (like open311's by_time).
    latest = datetime.max.replace(tzinfo=UTC)
    return (_readable_updated_at(record) or latest, str(record["id"]))
