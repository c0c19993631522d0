"""The connector contract suite: every connector type passes it by subclassing.

    class TestMemoryContract(ConnectorContract):
        def make_connector(self) -> Connector: ...
        def sample_record(self, n: int) -> NativeRecord: ...
        def make_unreachable_connector(self) -> Connector: ...
        # only for connectors that support follow-ups / status writes:
        def followup_record(self, n: int) -> NativeRecord: ...
        def status_fields(self) -> NativeRecord: ...

``make_connector`` must give a connector whose pages hold at most ``page_size``
records, so that the pagination test crosses page boundaries.
``make_unreachable_connector`` must fail every read, ``followups`` included.

Decided for every connector: the follow-ups of a record the remote does not know,
and a follow-up posted to one, raise ``RemoteRejected`` (the remote's 404); they
never return an empty list or None, so that a wrong id is never taken for "no
follow-ups yet".
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.errors import RemoteRejected, RetryableError


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def new_ref() -> str:
    """A fresh bridge-style reference (``lb`` + 16 hex digits)."""
    return f"lb{uuid.uuid4().hex[:16]}"


class ConnectorContract:
    """The behaviour the engine relies on, whatever the transport."""

    page_size: ClassVar[int] = 2
    unknown_id: ClassVar[str] = "999999999"

    # -- hooks -----------------------------------------------------------------

    def make_connector(self) -> Connector:
        raise NotImplementedError

    def sample_record(self, n: int) -> NativeRecord:
        raise NotImplementedError

    def make_unreachable_connector(self) -> Connector:
        """A connector whose remote cannot be reached (HTTP: a closed loopback port)."""
        raise NotImplementedError

    def record_id(self, record: NativeRecord) -> str:
        return str(record["id"])

    followup_content_field: ClassVar[str] = "content"
    """The native field of a follow-up that holds its text."""

    def followup_record(self, n: int) -> NativeRecord:
        """A native follow-up ``add_followup`` accepts, whose text mentions ``n``."""
        raise NotImplementedError

    def status_fields(self) -> NativeRecord:
        """Native status fields ``set_status`` accepts and ``get`` shows again afterwards."""
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------

    @pytest.fixture
    def connector(self) -> Iterator[Connector]:
        with self.make_connector() as connector:
            yield connector

    def _create(self, connector: Connector, n: int, ref: str | None = None) -> str:
        if not connector.can_create:
            pytest.skip("connector cannot create records")
        return connector.create(self.sample_record(n), [], ref or new_ref())

    def _all_ids(self, connector: Connector, since: datetime | None = None) -> list[str]:
        return [self.record_id(r) for page in connector.pull(since) for r in page]

    def _needs_followups(self, connector: Connector) -> None:
        if not connector.supports_followups:
            pytest.skip("connector has no follow-ups")

    def _contents(self, followups: list[NativeRecord]) -> list[str]:
        return [str(f.get(self.followup_content_field)) for f in followups]

    # -- the contract ----------------------------------------------------------

    def test_pull_yields_lists_of_records(self, connector: Connector) -> None:
        """pull yields non-empty pages that are lists of dicts."""
        self._create(connector, 1)
        pages = list(connector.pull())
        assert pages
        for page in pages:
            assert isinstance(page, list)
            assert page
            assert all(isinstance(record, dict) for record in page)

    def test_created_record_is_found_by_get_and_pull(self, connector: Connector) -> None:
        """create returns an id that get finds and that pull lists."""
        new_id = self._create(connector, 1)
        assert isinstance(new_id, str)
        record = connector.get(new_id)
        assert record is not None
        assert self.record_id(record) == new_id
        assert new_id in self._all_ids(connector)

    def test_get_unknown_id_returns_none(self, connector: Connector) -> None:
        """get of an id that does not exist returns None rather than raising."""
        assert connector.get(self.unknown_id) is None

    def test_find_by_ref_finds_created_record(self, connector: Connector) -> None:
        """find_by_ref returns the id created with that ref, and None for an unknown ref."""
        if not connector.can_find_by_ref:
            pytest.skip("connector cannot search by reference")
        ref = new_ref()
        new_id = self._create(connector, 1, ref)
        assert connector.find_by_ref(ref) == new_id
        assert connector.find_by_ref(new_ref()) is None

    def test_find_by_ref_matches_whole_refs_only(self, connector: Connector) -> None:
        """A ref that is a prefix of another record's ref does not match that record."""
        if not connector.can_find_by_ref:
            pytest.skip("connector cannot search by reference")
        ref = new_ref()
        self._create(connector, 1, ref + "9")
        assert connector.find_by_ref(ref) is None
        new_id = self._create(connector, 2, ref)
        assert connector.find_by_ref(ref) == new_id

    def test_pagination_yields_every_record_once(self, connector: Connector) -> None:
        """Records spread over several pages are each yielded exactly once."""
        created = [self._create(connector, n) for n in range(2 * self.page_size + 1)]
        pages = list(connector.pull())
        assert len(pages) > 1
        ids = [self.record_id(r) for page in pages for r in page]
        for new_id in created:
            assert ids.count(new_id) == 1

    def test_cursor_pull_omits_records_updated_before_since(self, connector: Connector) -> None:
        """A cursor connector's pull(since) leaves out records last updated before since."""
        if connector.change_feed != "cursor":
            pytest.skip("scan connectors list everything")
        new_id = self._create(connector, 1)
        past = datetime.now(UTC) - timedelta(days=1)
        assert new_id in self._all_ids(connector, since=past)
        assert new_id not in self._all_ids(connector, since=past + timedelta(days=2))

    def test_failed_read_raises_instead_of_yielding_nothing(self) -> None:
        """A remote that cannot be read raises RetryableError; pull never yields an empty page."""
        with self.make_unreachable_connector() as connector, pytest.raises(RetryableError):
            list(connector.pull())

    def test_close_is_idempotent(self) -> None:
        """close may be called twice."""
        connector = self.make_connector()
        connector.close()
        connector.close()

    # -- follow-ups and statuses -----------------------------------------------

    def test_added_followup_is_listed_exactly_once(self, connector: Connector) -> None:
        """add_followup's follow-up is listed once by followups, with its text and id."""
        self._needs_followups(connector)
        record_id = self._create(connector, 1)
        followup = self.followup_record(1)
        new_id = connector.add_followup(record_id, followup, [])
        listed = connector.followups(record_id)
        assert self._contents(listed) == [followup[self.followup_content_field]]
        if new_id is not None:
            assert isinstance(new_id, str)
            assert str(listed[0]["id"]) == new_id

    def test_followups_are_listed_oldest_first(self, connector: Connector) -> None:
        """Two follow-ups come back in the order they were posted, on their own record only."""
        self._needs_followups(connector)
        record_id = self._create(connector, 1)
        other_id = self._create(connector, 2)
        first, second = self.followup_record(1), self.followup_record(2)
        connector.add_followup(record_id, first, [])
        connector.add_followup(record_id, second, [])
        field = self.followup_content_field
        assert self._contents(connector.followups(record_id)) == [first[field], second[field]]
        assert connector.followups(other_id) == []

    def test_followups_of_an_unknown_record_are_refused(self, connector: Connector) -> None:
        """Reading or posting follow-ups of an id the remote does not know raises RemoteRejected."""
        self._needs_followups(connector)
        with pytest.raises(RemoteRejected):
            connector.followups(self.unknown_id)
        with pytest.raises(RemoteRejected):
            connector.add_followup(self.unknown_id, self.followup_record(1), [])

    def test_failed_followups_read_raises(self) -> None:
        """A remote that cannot be read raises RetryableError from followups, never []."""
        with self.make_unreachable_connector() as connector:
            self._needs_followups(connector)
            with pytest.raises(RetryableError):
                connector.followups("1")

    def test_status_write_round_trip(self, connector: Connector) -> None:
        """set_status writes the native status fields; get shows them afterwards."""
        if not connector.can_write_status:
            pytest.skip("connector cannot write statuses")
        record_id = self._create(connector, 1)
        fields = self.status_fields()
        connector.set_status(record_id, fields)
        record = connector.get(record_id)
        assert record is not None
        assert {key: record.get(key) for key in fields} == fields
