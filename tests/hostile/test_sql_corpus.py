"""The SQL corpus on real MariaDB and PostgreSQL: rows → sql connector → engine → LAPOR!."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from bridge.model import Complaint, make_ref
from tests.e2e.sql_door import (
    TO_LAPOR,
    Door,
    db_time_ago,
    door_fixture,  # noqa: F401 - registers the `door` fixture
)
from tests.hostile.conftest import hub_copies
from tests.hostile.corpus import Corpus, assert_two_cycles, delivered_by_ref, load
from tests.sqlfixtures import SqlDb, sql_db_fixture  # noqa: F401 - registers `sql_db`

pytestmark = pytest.mark.e2e

CORPUS = load("sql")
AGE_SECONDS = 20 * 60
"""Rows are stamped this long before the database's now: past the hold-back, inside no window."""


def prepare(db: SqlDb) -> None:
    """judul as bytes (a BLOB-style column) and masyarakat without its primary key."""
    if db.backend == "mariadb":
        db.execute("ALTER TABLE pengaduan MODIFY judul VARBINARY(255) NULL")
        db.execute("ALTER TABLE masyarakat DROP PRIMARY KEY")
    else:
        db.execute(
            "ALTER TABLE pengaduan ALTER COLUMN judul TYPE BYTEA USING convert_to(judul, 'UTF8')"
        )
        db.execute("ALTER TABLE masyarakat DROP CONSTRAINT masyarakat_pkey")


def insert(db: SqlDb, corpus: Corpus) -> None:
    for citizen in corpus.meta["citizens"]:
        db.insert("masyarakat", **citizen)
    stamp = db_time_ago(db, AGE_SECONDS)
    for record in corpus.records(corpus.entries):
        row: dict[str, Any] = dict(record, updated_at=stamp)
        if isinstance(row["judul"], str):
            row["judul"] = row["judul"].encode()
        db.insert("pengaduan", **row)
    for entry in corpus.entries:
        for response in entry.extra.get("responses", []):
            db.insert("tanggapan", id_pengaduan=entry.native_id, **response)


def delivered(door: Door) -> dict[str, list[Complaint]]:
    """LAPOR!'s copies, by the bridge reference each carries."""
    return delivered_by_ref(hub_copies(door.hub_state))


def test_every_hostile_row_is_set_aside_or_normalised(door: Door) -> None:
    """Each entry meets its fate on both databases; good rows land in LAPOR! once; no crash."""
    prepare(door.db)
    insert(door.db, CORPUS)

    first = door.sync(TO_LAPOR)
    second = door.sync(TO_LAPOR)

    with door.ledger() as ledger:
        assert_two_cycles(
            CORPUS,
            CORPUS.entries,
            first,
            second,
            ledger=ledger,
            route=TO_LAPOR,
            delivered=delivered(door),
            source_system="pengaduan",
        )


def test_an_update_stamped_earlier_moves_nothing_back_and_doubles_nothing(door: Door) -> None:
    """A row re-stamped before its last change (a clock set back) is a change, not a create."""
    row = dict(CORPUS.good[0], updated_at=db_time_ago(door.db, AGE_SECONDS))
    door.db.insert("masyarakat", **CORPUS.meta["citizens"][0])
    door.db.insert("pengaduan", **row)
    assert door.sync(TO_LAPOR).counts["create"] == 1
    with door.ledger() as ledger:
        before = ledger.cycles.cursor(TO_LAPOR, "pengaduan")

    table = door.db.table("pengaduan")
    earlier = db_time_ago(door.db, AGE_SECONDS + 5 * 60)  # inside the ten-minute look-back
    statement = (
        update(table)
        .where(table.c.id_pengaduan == row["id_pengaduan"])
        .values(isi_laporan="Sudah diperbarui.", updated_at=earlier)
    )
    with door.db.engine.begin() as conn:
        conn.execute(statement)
    report = door.sync(TO_LAPOR)

    assert report.ok, report.error
    assert report.counts.get("create", 0) == 0 and report.counts["change"] == 1
    with door.ledger() as ledger:
        after = ledger.cycles.cursor(TO_LAPOR, "pengaduan")
    assert before is not None and after is not None
    assert datetime.fromisoformat(after) >= datetime.fromisoformat(before)
    assert len(delivered(door)[make_ref("pengaduan", str(row["id_pengaduan"]))]) == 1
