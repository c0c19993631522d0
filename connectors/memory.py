"""The in-memory connector: reference implementation, template and the engine's test fake.

Copy this module to start a new connector: it shows every part of the contract
(settings, capabilities, pull pages, get, create with the bridge's reference,
find_by_ref) with no transport in the way. The settings model is declared once, as
the type argument (``Connector[MemorySettings]``): the base validates it, and
``configure`` sets what depends on it (the store, the change feed).

Records live in a ``MemoryStore`` (``connectors.memory_store``). Two connectors
configured with the same ``store`` name share one store, so that a test can
"restart" the bridge and find the same remote system it left behind. The helpers
``put``, ``change``, ``post_followup``, ``records``, ``fail_next``, ``clear_failures``,
``creates`` and ``drop_response_after_create`` exist for tests and are not part of the contract.

Follow-ups live inside their record under ``"_followups"`` (a list of native
dicts, oldest first). Every change to a record (a follow-up, a status write)
moves its ``updated_at`` forward, never back, so a cursor pull sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import Field

from bridge.connector import ChangeFeed, Connector, ConnectorSettings, NativeRecord
from bridge.errors import BridgeError, RemoteRejected, RetryableError
from bridge.model import Attachment

from .memory_store import (
    MemoryStore,
    Operation,
    bump,
    cursor_key,
    forget_shared_stores,
    listed_since,
    plain_copy,
    shared_store,
)

log = structlog.get_logger(__name__)

REF_KEY = "_bridge_ref"
ATTACHMENTS_KEY = "_attachments"  # filenames received with a create, for tests to check
FOLLOWUPS_KEY = "_followups"


class MemorySettings(ConnectorSettings):
    """Settings of a ``memory`` connector.

    - ``store``: name of a shared store; connectors with the same name see the same
      records. Unset: a private store for this connector.
    - ``feed``: ``"cursor"`` (pull filters by the records' ``updated_at``) or
      ``"scan"`` (pull lists everything, in insertion order).
    - ``page_size``: records per page yielded by ``pull``.
    - ``defaults``: native fields a created record gets when it lacks them, as a
      server assigns a new record's first status (``{"status": 0}``).
    - ``retain``: ``false`` makes ``create`` keep nothing: it counts the create and
      returns a fresh id, but stores no record (so ``find_by_ref`` never finds it and
      ``pull`` never lists it). A benchmark can then push a million complaints into
      this target with flat memory. Records ``put`` by tests are still kept.
    """

    store: str | None = None
    feed: ChangeFeed = "cursor"
    page_size: int = 100
    defaults: dict[str, Any] = Field(default_factory=dict)
    retain: bool = True


class MemoryConnector(Connector[MemorySettings]):
    """Native records are plain dicts with an ``id`` and an aware ISO ``updated_at``."""

    type = "memory"
    can_create = True
    can_find_by_ref = True
    supports_followups = True
    can_write_status = True
    can_forward = True

    def configure(self) -> None:
        self._store = self.store(self.options.store) if self.options.store else MemoryStore()
        self.change_feed = self.options.feed

    # -- shared stores ---------------------------------------------------------

    @staticmethod
    def store(name: str) -> MemoryStore:
        """The shared store called ``name``, created empty on first use."""
        return shared_store(name)

    @staticmethod
    def reset_stores() -> None:
        """Forget every shared store (call between tests)."""
        forget_shared_stores()

    # -- the contract ----------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        self._store.maybe_fail("pull")
        records = list(self._store.records.values())
        if self.change_feed == "cursor":
            records.sort(key=cursor_key)
            if since is not None:
                records = [r for r in records if listed_since(r, since)]
        size = max(1, self.options.page_size)
        for start in range(0, len(records), size):
            yield [plain_copy(r) for r in records[start : start + size]]

    def get(self, record_id: str) -> NativeRecord | None:
        self._store.maybe_fail("get")
        record = self._store.records.get(record_id)
        return plain_copy(record) if record is not None else None

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        self._store.maybe_fail("create")
        if not self.options.retain:
            return self._count_only()
        stored = self._stamp(record)
        for key, value in self.options.defaults.items():
            stored.setdefault(key, plain_copy(value))
        stored[REF_KEY] = ref
        if attachments:
            stored[ATTACHMENTS_KEY] = [a.filename for a in attachments]
        self._store.records[stored["id"]] = stored
        self._note_ref(stored)
        self._store.creates += 1
        log.info("memory.record.created", connector=self.name, record_id=stored["id"])
        if self._store.drop_response_after_create:
            raise RetryableError(f"{self.name}: the answer to a create was lost (simulated)")
        return str(stored["id"])

    def find_by_ref(self, ref: str) -> str | None:
        self._store.maybe_fail("find_by_ref")
        record_id = self._store.by_ref.get(ref)
        if record_id is None:
            return None  # every way a reference gets into a record notes it (_note_ref)
        record = self._store.records.get(record_id)
        if record is not None and record.get(REF_KEY) == ref:
            return record_id
        # The first record with it was replaced: the slow way, as a real search would.
        found = next((i for i, r in self._store.records.items() if r.get(REF_KEY) == ref), None)
        if found is None:
            del self._store.by_ref[ref]
        else:
            self._store.by_ref[ref] = found
        return found

    def followups(self, record_id: str) -> list[NativeRecord]:
        """Copies of the record's follow-ups; an unknown record raises RemoteRejected (404)."""
        self._store.maybe_fail("followups")
        return plain_copy(self._record(record_id).get(FOLLOWUPS_KEY, []))

    def add_followup(
        self, record_id: str, followup: NativeRecord, attachments: Sequence[Attachment]
    ) -> str | None:
        self._store.maybe_fail("add_followup")
        stored = plain_copy(followup)
        if attachments:
            stored[ATTACHMENTS_KEY] = [a.filename for a in attachments]
        new_id = self.post_followup(record_id, stored)
        log.info("memory.followup.added", connector=self.name, record_id=record_id)
        return new_id

    def set_status(self, record_id: str, fields: NativeRecord) -> None:
        self._store.maybe_fail("set_status")
        self.change(record_id, **fields)

    def forward(self, record_id: str, institution_id: str, reason: str) -> None:
        """Record the hand-over under ``"_forwarded_to"`` (as LAPOR!'s #3 would re-dispose it)."""
        self._store.maybe_fail("forward")
        self.change(record_id, _forwarded_to=institution_id, _forward_reason=reason)

    # -- test helpers (not part of the contract) -------------------------------

    def post_followup(self, record_id: str, followup: NativeRecord) -> str:
        """Append a follow-up as the system's own users would; returns its id ("f-<n>")."""
        record = self._record(record_id)
        stored = plain_copy(followup)
        stored["id"] = str(stored.get("id") or self._store.new_followup_id())
        record.setdefault(FOLLOWUPS_KEY, []).append(stored)
        bump(record)
        return str(stored["id"])

    def change(self, record_id: str, **fields: Any) -> None:
        """Merge ``fields`` into a record and move its ``updated_at`` forward."""
        record = self._record(record_id)
        record.update(plain_copy(fields))
        self._note_ref(record)
        bump(record)

    def put(self, record: NativeRecord) -> str:
        """Insert or replace a record as the remote system's own users would; returns its id."""
        stored = self._stamp(record)
        self._store.records[stored["id"]] = stored
        self._note_ref(stored)
        return str(stored["id"])

    def records(self) -> list[NativeRecord]:
        """Copies of every stored record, in insertion order."""
        return [plain_copy(r) for r in self._store.records.values()]

    def fail_next(
        self,
        n: int,
        error: BridgeError,
        *,
        operations: Iterable[Operation] = ("pull", "create"),
    ) -> None:
        """Make the next ``n`` calls of ``operations`` raise ``error`` (before doing anything)."""
        self._store.failures.extend((frozenset(operations), error) for _ in range(n))

    def clear_failures(self) -> None:
        """Forget every injected failure not yet raised (a test's outage is over)."""
        self._store.failures.clear()

    @property
    def creates(self) -> int:
        """How many records ``create`` has stored (including ones whose answer was dropped)."""
        return self._store.creates

    @property
    def drop_response_after_create(self) -> bool:
        """When True, ``create`` stores the record and then raises RetryableError."""
        return self._store.drop_response_after_create

    @drop_response_after_create.setter
    def drop_response_after_create(self, value: bool) -> None:
        self._store.drop_response_after_create = value

    # -- internals -------------------------------------------------------------

    def _count_only(self) -> str:
        """A create under ``retain = false``: a new id and a count, nothing remembered."""
        self._store.creates += 1
        if self._store.drop_response_after_create:
            raise RetryableError(f"{self.name}: the answer to a create was lost (simulated)")
        return self._store.new_id()

    def _record(self, record_id: str) -> NativeRecord:
        """The stored record itself (not a copy); an unknown id is refused like a 404."""
        record = self._store.records.get(record_id)
        if record is None:
            raise RemoteRejected(f"{self.name}: no record {record_id!r}", status_code=404)
        return record

    def _note_ref(self, record: NativeRecord) -> None:
        ref = record.get(REF_KEY)
        if isinstance(ref, str):
            self._store.by_ref.setdefault(ref, str(record["id"]))

    def _stamp(self, record: NativeRecord) -> NativeRecord:
        """A private copy with an id and an ``updated_at`` (now, if the record has none)."""
        stored = plain_copy(record)
        stored["id"] = str(stored.get("id") or self._store.new_id())
        stored.setdefault("updated_at", datetime.now(UTC).isoformat())
        return stored
