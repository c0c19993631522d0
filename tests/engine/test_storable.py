"""Values the ledger cannot store set their record aside on a real PostgreSQL ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bridge.errors import RecordInvalid
from bridge.ledger import Ledger
from bridge.storable import ID_LIMIT, checked_remote_id, unstorable
from bridge.sync import run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route
from tests.pg import fresh_pg_database

LONG_ID = "9" * (ID_LIMIT + 1)


@pytest.fixture
def pg_ledger() -> Iterator[Ledger]:
    with fresh_pg_database("lb_storable") as url:
        ledger = Ledger.open(url)
        try:
            yield ledger
        finally:
            ledger.close()


def test_unstorable_ids_and_statuses_are_set_aside_and_the_page_goes_on(
    pg_ledger: Ledger, cursor_mapping: Path
) -> None:
    """Of 20 records, an overlong id and a NUL label are set aside; 18 go, the cursor moves."""
    route = make_route(pg_ledger, feed="cursor", source_mapping=cursor_mapping, page_size=20)
    for i in range(1, 21):
        changes: dict[str, object] = {"updated_at": f"2026-03-01T10:00:{i:02d}+08:00"}
        if i == 5:
            changes["id"] = LONG_ID
        if i == 12:
            changes["status_pengaduan"] = "Menunggu\x00"
        door_of(route).put(door_record(i, **changes))

    first = run_cycle(route)

    assert first.ok, first.error
    assert first.counts["create"] == 18 and first.counts["set_aside"] == 2
    assert len(hub_of(route).records()) == 18
    aside = {q.field: q.reason for q in pg_ledger.quarantine.listed("door-to-hub")}
    assert set(aside) == {"source_id", "raw_status.label"}
    assert "at most 200" in aside["source_id"]
    assert "NUL" in aside["raw_status.label"]
    cursor = pg_ledger.cycles.cursor("door-to-hub", "door")
    assert cursor is not None and datetime.fromisoformat(cursor).second == 20

    second = run_cycle(route)

    assert second.ok, second.error
    assert second.counts["set_aside"] == 0 and second.counts["create"] == 0
    assert len(hub_of(route).records()) == 18
    assert len(pg_ledger.quarantine.listed("door-to-hub")) == 2


def test_a_reason_holding_a_nul_is_still_set_aside(pg_ledger: Ledger) -> None:
    """The quarantine writer escapes NUL and cuts an overlong field: setting aside never fails."""
    pg_ledger.quarantine.add("r", "door", "7", "bad value 'a\x00b'", "f" * 300, '{"x": "\x00"}')
    (item,) = pg_ledger.quarantine.listed("r")
    assert item.reason == "bad value 'a\\x00b'"
    assert item.field is not None and len(item.field) == 200


def test_a_created_id_the_ledger_cannot_store_is_the_records_problem() -> None:
    """A target's new id that is too long or holds a NUL is refused, naming the target."""
    assert checked_remote_id("4100001", "lapor") == "4100001"
    for bad in (LONG_ID, "41\x0001"):
        with pytest.raises(RecordInvalid, match="lapor created this complaint") as caught:
            checked_remote_id(bad, "lapor")
        assert caught.value.field == "remote_id"
    assert unstorable("\ud800", 10) is not None
