"""A PHP + MySQL complaint app's database ↔ LAPOR!, on real MariaDB and PostgreSQL.

The real config loader, the ``sql`` connector with the shipped ``pengaduan-php`` mapping,
the ``lapor`` connector against the LAPOR! simulator over loopback HTTP, and an SQLite
ledger. Each test gets a fresh database on each server (``tests/sqlfixtures.py``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.model import make_ref
from tests.e2e.sql_door import (
    CITIZENS,
    FROM_LAPOR,
    SEEDED,
    TO_LAPOR,
    Door,
    content,
    db_time_ago,
    door_fixture,  # noqa: F401 - registers the `door` fixture
    seed,
)
from tests.sqlfixtures import sql_db_fixture  # noqa: F401 - registers the `sql_db` fixture

pytestmark = pytest.mark.e2e

LATER = timedelta(hours=2)
"""Far enough ahead that every linked complaint's next re-poll is due."""


def test_every_row_lands_in_lapor_exactly_once_with_its_fields(door: Door) -> None:
    """25 rows → 25 LAPOR! complaints, one each, title/text/reporter kept; a rerun creates none."""
    ids = seed(door.db)
    first = door.sync(TO_LAPOR)
    second = door.sync(TO_LAPOR)
    assert first.ok, first.error
    assert second.ok, second.error
    assert first.counts["create"] == SEEDED
    assert second.counts.get("create", 0) == 0
    by_ref = door.hub_by_ref()
    assert len(door.hub_state.complaints) == SEEDED
    for n, complaint_id in enumerate(ids, start=1):
        [hub] = by_ref[make_ref("pengaduan", str(complaint_id))]
        assert hub["title"] == f"Jalan rusak di banjar {n}"
        # The text, then the row's own date and status (lapor.toml's unsent_note).
        assert hub["content"].startswith(content(n) + "\n\nTanggal pengaduan asli: ")
        assert "; status di pengaduan: " in hub["content"]
        # The typical schema has no anonymity column: every reporter is named.
        _, name, _, phone = CITIZENS[n % len(CITIZENS)]
        assert hub["is_anonymous"] == 0
        assert hub["payload"]["nameUser"] == name
        assert hub["payload"]["phoneUser"] == phone


def test_a_row_committed_late_with_an_older_stamp_is_carried_next_cycle(door: Door) -> None:
    """A row committed after a cycle, stamped before rows it pulled, comes with the look-back."""
    ids = seed(door.db)
    assert door.sync(TO_LAPOR).counts["create"] == SEEDED
    # Five minutes before the newest pulled row (the route looks back ten): as if its
    # transaction had been open while the cycle ran. The database's clock stamps it.
    late = door.db.complaint(99, judul="Lampu jalan mati", updated_at=db_time_ago(door.db, 35 * 60))
    assert door.updated_at(late) < door.newest_updated_at(ids)
    report = door.sync(TO_LAPOR)
    assert report.ok, report.error
    assert report.counts["create"] == 1
    [hub] = door.hub_by_ref()[make_ref("pengaduan", str(late))]
    assert hub["title"] == "Lampu jalan mati"
    assert len(door.hub_state.complaints) == SEEDED + 1


def test_a_lapor_follow_up_lands_in_tanggapan_once_and_never_echoes(door: Door) -> None:
    """LAPOR!'s answer → one tanggapan row; later cycles neither echo it nor insert it twice."""
    ids = seed(door.db)
    assert door.sync(TO_LAPOR).ok
    links = {cid: door.hub_by_ref()[make_ref("pengaduan", str(cid))][0] for cid in ids}
    answered, with_response = ids[0], ids[4]  # the fifth row came with a tanggapan
    # The door's own response reached LAPOR! with the complaint.
    assert door.lapor_followups(links[with_response]) == door.responses(with_response)
    answer = "Tim PUPR sudah menambal lubang di banjar 1 pada hari Senin."
    door.write_in_lapor(str(links[answered]["id"]), answer)

    report = door.sync(FROM_LAPOR)
    assert report.ok, report.error
    assert door.responses(answered) == [answer]

    for hours in (LATER, 2 * LATER):
        for route in (FROM_LAPOR, TO_LAPOR):
            again = door.sync(route, later=hours)
            assert again.ok, again.error
            assert again.counts["repoll"] > 0  # linked complaints were looked at again
    assert door.responses(answered) == [answer]
    assert door.lapor_followups(links[answered]) == [answer]
    # The door's own response did not come back from LAPOR! as a second row either.
    assert len(door.responses(with_response)) == 1
    assert len(door.lapor_followups(links[with_response])) == 1
    with door.ledger() as ledger:
        assert ledger.reviews.listed() == []


def binary_titles(door: Door) -> None:
    """``judul`` as raw bytes, as in apps that store text in a BLOB/VARBINARY column."""
    if door.db.backend == "mariadb":
        door.db.execute("ALTER TABLE pengaduan MODIFY judul VARBINARY(255) NULL")
    else:
        door.db.execute(
            "ALTER TABLE pengaduan ALTER COLUMN judul TYPE BYTEA USING convert_to(judul, 'UTF8')"
        )


def set_aside(door: Door) -> dict[int, str | None]:
    """Source id → the field named as the reason, for every record the route set aside."""
    with door.ledger() as ledger:
        held = ledger.quarantine.listed(TO_LAPOR)
    assert all(q.reason for q in held)
    return {int(q.source_id): q.field for q in held}


def test_hostile_rows_are_set_aside_with_reasons_and_the_rest_flow(door: Door) -> None:
    """NULL isi_laporan, a year-0002 date and invalid UTF-8 are quarantined; the 25 others flow."""
    binary_titles(door)
    ids = seed(door.db, binary_titles=True)
    row = {"judul": b"Jalan rusak", "updated_at": db_time_ago(door.db, 20 * 60)}
    hostile = {
        door.db.complaint(101, **row, isi_laporan=None): "content",
        door.db.complaint(102, **row, tgl_pengaduan="0002-01-01"): "created_at",
        door.db.complaint(103, **{**row, "judul": b"Jalan \xff\xfe rusak"}): "title",
    }
    report = door.sync(TO_LAPOR)
    assert report.ok, report.error
    assert report.counts["create"] == SEEDED
    assert set_aside(door) == hostile
    by_ref = door.hub_by_ref()
    assert all(len(by_ref[make_ref("pengaduan", str(cid))]) == 1 for cid in ids)
    assert len(door.hub_state.complaints) == SEEDED
    again = door.sync(TO_LAPOR)
    assert again.ok and again.counts.get("create", 0) == 0
    assert set_aside(door) == hostile  # still held, still not sent


def test_a_five_megabyte_text_is_set_aside(door: Door) -> None:
    """A 5 MB isi_laporan is quarantined instead of being posted to LAPOR!; the others flow."""
    seed(door.db)
    huge = door.db.complaint(104, isi_laporan="x" * 5_000_000, updated_at=db_time_ago(door.db, 60))
    report = door.sync(TO_LAPOR)
    assert report.ok, report.error
    assert report.counts["create"] == SEEDED
    assert set_aside(door) == {huge: "content"}
