"""The sql connector's change feed and records, on real MariaDB and PostgreSQL databases."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bridge.connector import NativeRecord
from bridge.connectors.sql import SqlConnector
from bridge.errors import ConfigError, RemoteRejected, SchemaMismatch
from bridge.mapping import load_mapping
from tests.sqlfixtures import (
    SHIPPED_MAPPING,
    SHIPPED_TRANSPORT,
    SqlDb,
    make_connector,
    sql_db_fixture,  # noqa: F401 - registers the `sql_db` fixture
)

SCAN_TRANSPORT = {k: v for k, v in SHIPPED_TRANSPORT.items() if k != "updated_at_column"}


def ids(pages: list[list[NativeRecord]]) -> list[int]:
    return [int(record["id_pengaduan"]) for page in pages for record in page]


@pytest.fixture
def statements(request: pytest.FixtureRequest) -> list[str]:
    """The SQL text of every statement a connector runs, once ``listen`` is called on it."""
    seen: list[str] = []

    def listen(connector: SqlConnector) -> None:
        def record(*args: Any) -> None:
            seen.append(str(args[2]))

        event.listen(connector.engine, "before_cursor_execute", record)

    request.node.listen = listen
    return seen


def test_keyset_pages_yield_every_row_once(sql_db: SqlDb, tmp_path: Path) -> None:
    """With page_size 3, ten rows (several sharing one updated_at) come back once each, in order."""
    same = sql_db.now() - timedelta(hours=1)
    created = [
        sql_db.complaint(n, updated_at=same) if n % 2 else sql_db.complaint(n) for n in range(10)
    ]
    with make_connector(sql_db, tmp_path, page_size=3) as connector:
        pages = list(connector.pull())
    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert sorted(ids(pages)) == created
    assert len(set(ids(pages))) == 10


def test_pages_use_keyset_conditions_not_offset(
    sql_db: SqlDb,
    tmp_path: Path,
    statements: list[str],
    request: pytest.FixtureRequest,
) -> None:
    """Later pages start after the last (updated_at, id) seen; no query uses OFFSET."""
    for n in range(4):
        sql_db.complaint(n)
    with make_connector(sql_db, tmp_path, page_size=2) as connector:
        request.node.listen(connector)
        list(connector.pull())
    pages = [s for s in statements if "ORDER BY pengaduan.updated_at" in s]
    assert len(pages) == 3
    assert all("OFFSET" not in s.upper() for s in statements)
    assert "pengaduan.updated_at >" in pages[1]


def test_late_committed_row_is_returned_by_the_next_pull(sql_db: SqlDb, tmp_path: Path) -> None:
    """A row committed late, stamped before rows already pulled, comes with the look-back."""
    now = sql_db.now()
    sql_db.complaint(1, updated_at=now - timedelta(seconds=30))
    newest = sql_db.complaint(2, updated_at=now - timedelta(seconds=10))
    mapping = load_mapping(SHIPPED_MAPPING)
    with make_connector(sql_db, tmp_path) as connector:
        first = [r for page in connector.pull() for r in page]
        cursor = max(mapping.native_updated_at(r) or now for r in first)
        # The slow transaction commits only now, with a time older than `newest`'s.
        late = sql_db.complaint(3, updated_at=now - timedelta(seconds=20))
        second = ids(list(connector.pull(since=cursor - timedelta(seconds=60))))
    assert late in second
    assert newest in second
    assert late not in [int(r["id_pengaduan"]) for r in first]


def test_rows_younger_than_hold_back_wait_for_a_later_pull(sql_db: SqlDb, tmp_path: Path) -> None:
    """Rows updated within hold_back_seconds of the database's clock are not returned yet."""
    old = sql_db.complaint(1, updated_at=sql_db.now() - timedelta(hours=2))
    fresh = sql_db.complaint(2)  # updated_at = the database's CURRENT_TIMESTAMP
    with make_connector(sql_db, tmp_path, hold_back_seconds=3600) as connector:
        held = ids(list(connector.pull()))
    with make_connector(sql_db, tmp_path, hold_back_seconds=0) as connector:
        released = ids(list(connector.pull()))
    assert held == [old]
    assert released == [old, fresh]


def test_since_leaves_out_rows_updated_before_it(sql_db: SqlDb, tmp_path: Path) -> None:
    """pull(since) returns rows updated at or after since, read in the mapping's zone."""
    now = sql_db.now()
    sql_db.complaint(1, updated_at=now - timedelta(days=3))
    recent = sql_db.complaint(2, updated_at=now - timedelta(hours=1))
    zone = load_mapping(SHIPPED_MAPPING).timezone
    since = (now - timedelta(days=1)).replace(tzinfo=zone)
    with make_connector(sql_db, tmp_path) as connector:
        assert ids(list(connector.pull(since=since))) == [recent]


def test_scan_mode_lists_every_row_by_id(sql_db: SqlDb, tmp_path: Path) -> None:
    """Without updated_at_column the feed is "scan" and pull lists every row, held back or not."""
    created = [sql_db.complaint(n) for n in range(5)]
    with make_connector(sql_db, tmp_path, SCAN_TRANSPORT, page_size=2, hold_back_seconds=3600) as c:
        assert c.change_feed == "scan"
        assert ids(list(c.pull())) == created


def test_joined_citizen_and_responses_appear_in_the_record(sql_db: SqlDb, tmp_path: Path) -> None:
    """The masyarakat row is nested under "pelapor"; tanggapan rows form an oldest-first list."""
    sql_db.insert("masyarakat", nik="3201", nama="Siti Aminah", username="siti", telp="0812")
    complaint = sql_db.complaint(1, nik="3201")
    orphan = sql_db.complaint(2, nik="9999")  # no masyarakat row: still a complaint
    sql_db.insert("tanggapan", id_pengaduan=complaint, tgl_tanggapan="2024-03-07", tanggapan="B")
    sql_db.insert("tanggapan", id_pengaduan=complaint, tgl_tanggapan="2024-03-06", tanggapan="A")
    with make_connector(sql_db, tmp_path) as connector:
        records = {r["id_pengaduan"]: r for page in connector.pull() for r in page}
        assert [f["tanggapan"] for f in connector.followups(str(complaint))] == ["A", "B"]
    record = records[complaint]
    assert record["pelapor"] == {
        "nik": "3201",
        "nama": "Siti Aminah",
        "username": "siti",
        "telp": "0812",
    }
    assert [f["tanggapan"] for f in record["tanggapan_list"]] == ["A", "B"]
    assert records[orphan]["pelapor"]["nama"] is None
    assert records[orphan]["tanggapan_list"] == []
    canonical = load_mapping(SHIPPED_MAPPING).to_canonical(record)
    assert canonical.reporter.name == "Siti Aminah"
    assert [f.content for f in canonical.followups] == ["A", "B"]


def test_responses_of_a_page_are_read_with_one_query(
    sql_db: SqlDb,
    tmp_path: Path,
    statements: list[str],
    request: pytest.FixtureRequest,
) -> None:
    """A page of three complaints with responses costs one page query and one IN query."""
    for n in range(3):
        record_id = sql_db.complaint(n)
        sql_db.insert(
            "tanggapan", id_pengaduan=record_id, tgl_tanggapan="2024-03-06", tanggapan="ok"
        )
    with make_connector(sql_db, tmp_path, page_size=3) as connector:
        list(connector.pull())  # the first pull also checks the schema; count the second
        request.node.listen(connector)
        pages = list(connector.pull())
    assert [len(r["tanggapan_list"]) for r in pages[0]] == [1, 1, 1]
    reads = [s for s in statements if "FROM tanggapan" in s]
    assert len(reads) == 1
    assert " IN " in reads[0]


def test_add_followup_inserts_a_tanggapan_row(sql_db: SqlDb, tmp_path: Path) -> None:
    """add_followup INSERTs the given columns and the foreign key, and returns the new id."""
    complaint = sql_db.complaint(1)
    payload = {"tanggapan": "Sudah diperbaiki", "tgl_tanggapan": "2024-03-08", "id_petugas": 7}
    with make_connector(sql_db, tmp_path) as connector:
        new_id = connector.add_followup(str(complaint), payload, [])
        with pytest.raises(RemoteRejected):
            connector.add_followup("424242", payload, [])
    table = sql_db.table("tanggapan")
    with sql_db.engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    assert len(rows) == 1
    assert str(rows[0]["id_tanggapan"]) == new_id
    assert rows[0]["id_pengaduan"] == complaint
    assert rows[0]["tanggapan"] == "Sudah diperbaiki"


def test_add_followup_needs_a_writable_responses_table(sql_db: SqlDb, tmp_path: Path) -> None:
    """Without `writable = true` posting a follow-up is a configuration error."""
    read_only = {
        **SHIPPED_TRANSPORT,
        "responses": {**SHIPPED_TRANSPORT["responses"], "writable": False},
    }
    complaint = sql_db.complaint(1)
    with make_connector(sql_db, tmp_path, read_only) as connector, pytest.raises(ConfigError):
        connector.add_followup(str(complaint), {"tanggapan": "x"}, [])


def test_a_followup_key_that_is_no_column_stops_the_route(sql_db: SqlDb, tmp_path: Path) -> None:
    """A mapping writing a follow-up field the table lacks: SchemaMismatch naming the key only."""
    complaint = sql_db.complaint(1)
    payload = {"tanggapan": "rahasia", "lampiran": "x.jpg", "tgl_tanggapan": "2024-03-08"}
    with make_connector(sql_db, tmp_path) as connector, pytest.raises(SchemaMismatch) as caught:
        connector.add_followup(str(complaint), payload, [])
    assert "lampiran" in str(caught.value)
    assert "rahasia" not in str(caught.value)


def test_get_returns_the_record_or_none(sql_db: SqlDb, tmp_path: Path) -> None:
    """get finds a row by id (with joins and responses); a missing or non-numeric id is None."""
    complaint = sql_db.complaint(1)
    with make_connector(sql_db, tmp_path) as connector:
        record = connector.get(str(complaint))
        assert connector.get("31337") is None
        assert connector.get("1 OR 1=1") is None
    assert record is not None
    assert record["judul"] == "Jalan rusak 1"
    assert record["tanggapan_list"] == []
    assert record["tgl_pengaduan"] == "2024-03-05"
