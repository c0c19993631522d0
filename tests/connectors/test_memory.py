"""The memory connector's own behaviour: shared stores, ordering and injected failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bridge.connectors.memory import (
    FOLLOWUPS_KEY,
    REF_KEY,
    MemoryConnector,
    MemorySettings,
    Operation,
)
from bridge.errors import RemoteRejected, RetryableError
from bridge.model import Attachment


def make(store: str | None = "remote", **options: object) -> MemoryConnector:
    return MemoryConnector("memory", MemorySettings(type="memory", store=store, **options))


def test_same_store_name_shares_records_across_instances() -> None:
    """A restarted connector with the same store name sees what the first one created."""
    first = make()
    new_id = first.create({"title": "a"}, [], "lb1")
    second = make()
    assert second.get(new_id) is not None
    assert second.find_by_ref("lb1") == new_id
    assert MemoryConnector.store("remote").records[new_id][REF_KEY] == "lb1"


def test_private_stores_are_separate() -> None:
    """Without a store name each connector has its own records."""
    make(store=None).put({"id": "x"})
    assert make(store=None).records() == []


def test_ids_are_assigned_or_kept() -> None:
    """create assigns m-1, m-2… unless the record carries its own id."""
    connector = make()
    assert connector.create({"title": "a"}, [], "r1") == "m-1"
    assert connector.create({"id": "own", "title": "b"}, [], "r2") == "own"
    assert connector.create({"title": "c"}, [], "r3") == "m-2"


def test_cursor_pull_orders_by_updated_at_then_id_and_filters() -> None:
    """Cursor pulls are ordered by (updated_at, id) and keep records updated at or after since."""
    connector = make()
    connector.put({"id": "b", "updated_at": "2024-05-01T10:00:00+07:00"})
    connector.put({"id": "a", "updated_at": "2024-05-01T10:00:00+07:00"})
    connector.put({"id": "c", "updated_at": "2024-05-01T02:00:00+00:00"})
    ids = [r["id"] for page in connector.pull() for r in page]
    assert ids == ["c", "a", "b"]  # 10:00 WIB is 03:00 UTC, after c's 02:00 UTC
    since = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
    assert [r["id"] for page in connector.pull(since) for r in page] == ["a", "b"]


def test_scan_pull_keeps_insertion_order_and_ignores_since() -> None:
    """Scan pulls list everything in insertion order, whatever since says."""
    connector = make(feed="scan")
    assert connector.change_feed == "scan"
    connector.put({"id": "b", "updated_at": "2020-01-01T00:00:00+00:00"})
    connector.put({"id": "a", "updated_at": "2020-01-01T00:00:00+00:00"})
    pages = connector.pull(datetime(2030, 1, 1, tzinfo=UTC))
    assert [r["id"] for page in pages for r in page] == ["b", "a"]


def test_fail_next_fails_the_next_calls_then_recovers() -> None:
    """fail_next(n) makes the next n pull/create calls raise, then they work again."""
    connector = make()
    connector.fail_next(2, RetryableError("down"))
    with pytest.raises(RetryableError):
        list(connector.pull())
    with pytest.raises(RetryableError):
        connector.create({"title": "a"}, [], "r1")
    assert connector.creates == 0
    assert connector.create({"title": "a"}, [], "r1") == "m-1"


def test_fail_next_can_target_other_operations() -> None:
    """fail_next can target get or find_by_ref, leaving pull alone."""
    connector = make()
    connector.fail_next(1, RemoteRejected("no"), operations=("find_by_ref",))
    assert list(connector.pull()) == []
    with pytest.raises(RemoteRejected):
        connector.find_by_ref("r1")


def test_dropped_create_response_stores_the_record_but_raises() -> None:
    """With drop_response_after_create the record exists although create raised."""
    connector = make()
    connector.drop_response_after_create = True
    with pytest.raises(RetryableError):
        connector.create({"title": "a"}, [Attachment(filename="f.jpg")], "r1")
    assert connector.creates == 1
    assert connector.find_by_ref("r1") == "m-1"
    assert make().drop_response_after_create is True


def test_records_are_copies() -> None:
    """Mutating what get or records returns never changes the store."""
    connector = make()
    connector.put({"id": "a", "tags": ["x"]})
    got = connector.get("a")
    assert got is not None
    got["tags"].append("y")
    assert connector.records()[0]["tags"] == ["x"]


def test_followups_live_in_the_record_and_bump_updated_at() -> None:
    """add_followup appends under _followups with an f-<n> id and moves updated_at forward."""
    connector = make()
    connector.put({"id": "a", "updated_at": "2024-05-01T10:00:00+07:00"})
    new_id = connector.add_followup("a", {"content": "ok"}, [Attachment(filename="b.jpg")])
    assert new_id == "f-1"
    (stored,) = connector.records()
    assert stored[FOLLOWUPS_KEY] == [{"content": "ok", "id": "f-1", "_attachments": ["b.jpg"]}]
    assert datetime.fromisoformat(stored["updated_at"]) > datetime(2024, 5, 1, tzinfo=UTC)


def test_post_followup_keeps_a_given_id_and_followups_are_copies() -> None:
    """post_followup keeps the follow-up's own id; mutating followups' answer changes nothing."""
    connector = make()
    connector.put({"id": "a"})
    assert connector.post_followup("a", {"id": "own", "content": "x"}) == "own"
    assert connector.post_followup("a", {"content": "y"}) == "f-1"
    listed = connector.followups("a")
    listed[0]["content"] = "changed"
    assert [f["content"] for f in connector.followups("a")] == ["x", "y"]


def test_updated_at_never_moves_back() -> None:
    """A change to a record stamped in the future moves updated_at just past the old value."""
    connector = make()
    connector.put({"id": "a", "updated_at": "2999-01-01T00:00:00+00:00"})
    connector.change("a", status=2)
    (stored,) = connector.records()
    assert stored["status"] == 2
    assert stored["updated_at"] == "2999-01-01T00:00:00.000001+00:00"


def test_set_status_merges_fields_and_is_seen_by_a_cursor_pull() -> None:
    """set_status merges the fields; the record is pulled again after the old cursor."""
    connector = make()
    connector.put({"id": "a", "status": 0, "title": "t", "updated_at": "2024-05-01T00:00:00+00:00"})
    connector.set_status("a", {"status": 3})
    since = datetime(2024, 5, 2, tzinfo=UTC)
    assert [(r["status"], r["title"]) for page in connector.pull(since) for r in page] == [(3, "t")]


def test_unknown_record_followups_and_status_are_refused() -> None:
    """followups, add_followup and set_status of an unknown id raise RemoteRejected (404)."""
    connector = make()
    with pytest.raises(RemoteRejected) as caught:
        connector.followups("nope")
    assert caught.value.status_code == 404
    with pytest.raises(RemoteRejected):
        connector.add_followup("nope", {"content": "x"}, [])
    with pytest.raises(RemoteRejected):
        connector.set_status("nope", {"status": 1})


@pytest.mark.parametrize("operation", ["followups", "add_followup", "set_status"])
def test_fail_next_can_target_followup_and_status_operations(operation: Operation) -> None:
    """fail_next can target followups, add_followup and set_status; nothing is written."""
    connector = make()
    connector.put({"id": "a"})
    connector.fail_next(1, RetryableError("down"), operations=(operation,))
    calls: dict[str, Callable[[], object]] = {
        "followups": lambda: connector.followups("a"),
        "add_followup": lambda: connector.add_followup("a", {"content": "x"}, []),
        "set_status": lambda: connector.set_status("a", {"status": 1}),
    }
    before = connector.records()
    with pytest.raises(RetryableError):
        calls[operation]()
    assert connector.records() == before
    calls[operation]()  # the failure was consumed


def test_capabilities_of_the_memory_connector() -> None:
    """The memory connector supports follow-ups and status writes but cannot forward."""
    connector = make()
    assert (connector.supports_followups, connector.can_write_status) == (True, True)
    assert connector.can_forward is True


def test_defaults_fill_what_a_created_record_lacks() -> None:
    """defaults are the server's values for a new record; the record's own values win."""
    connector = make(defaults={"status": 0, "label": "Menunggu"})
    new_id = connector.create({"title": "a", "label": "own"}, [], "r1")
    stored = connector.get(new_id)
    assert stored is not None
    assert (stored["status"], stored["label"]) == (0, "own")


def test_clear_failures_forgets_pending_failures() -> None:
    """clear_failures drops injected failures that were not raised yet."""
    connector = make()
    connector.fail_next(3, RetryableError("down"), operations=("pull",))
    connector.clear_failures()
    assert list(connector.pull()) == []
