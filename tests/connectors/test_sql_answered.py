"""In cursor mode the sql connector also reads older complaints that got a new response.

A ``tanggapan`` added to a closed ``pengaduan`` leaves the complaint's ``updated_at``
alone, so a cursor on it never saw the answer: LAPOR! never got it (issue 12).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.sqlfixtures import (
    SqlDb,
    make_connector,
    sql_db_fixture,  # noqa: F401 - registers the `sql_db` fixture
)

WIB = ZoneInfo("Asia/Jakarta")


def test_an_answer_to_an_old_closed_complaint_is_pulled_once_with_it(
    sql_db: SqlDb, tmp_path: Path
) -> None:
    """A complaint last changed two days ago but answered today comes with the cursor's rows."""
    now = sql_db.now()
    old = now - timedelta(days=2)
    answered = sql_db.complaint(1, status="selesai", updated_at=old)
    quiet = sql_db.complaint(2, status="selesai", updated_at=old)
    fresh = sql_db.complaint(3, updated_at=now - timedelta(minutes=5))
    sql_db.insert("tanggapan", id_pengaduan=quiet, tgl_tanggapan=old.date(), tanggapan="Lama")
    sql_db.insert("tanggapan", id_pengaduan=answered, tgl_tanggapan=now.date(), tanggapan="Baru")
    connector = make_connector(sql_db, tmp_path, hold_back_seconds=0)
    try:
        since = (now - timedelta(hours=1)).replace(tzinfo=WIB)
        records = [r for page in connector.pull(since) for r in page]
    finally:
        connector.close()
    ids = Counter(r["id_pengaduan"] for r in records)
    assert ids == Counter({fresh: 1, answered: 1})
    [with_answer] = [r for r in records if r["id_pengaduan"] == answered]
    assert [t["tanggapan"] for t in with_answer["tanggapan_list"]] == ["Baru"]
