"""The sql connector passes the connector contract, on MariaDB and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.testing.contract import ConnectorContract
from tests.sqlfixtures import (
    SHIPPED_TRANSPORT,
    SqlDb,
    closed_port,
    make_connector,
    sql_db_fixture,  # noqa: F401 - registers the `sql_db` fixture
)

# The contract creates records and finds them by reference: allow both in the test schema.
CONTRACT_TRANSPORT: dict[str, Any] = {
    **SHIPPED_TRANSPORT,
    "create": True,
    "ref_column": "bridge_ref",
    "write_status": True,
}


class TestSqlContract(ConnectorContract):
    transport: ClassVar[dict[str, Any]] = CONTRACT_TRANSPORT
    followup_content_field = "tanggapan"

    @pytest.fixture(autouse=True)
    def _database(self, sql_db: SqlDb, tmp_path: Path) -> None:
        self.db = sql_db
        self.tmp_path = tmp_path

    def make_connector(self) -> Connector:
        return make_connector(self.db, self.tmp_path, self.transport, page_size=self.page_size)

    def sample_record(self, n: int) -> NativeRecord:
        return {
            "judul": f"Jalan rusak {n}",
            "isi_laporan": f"Laporan nomor {n}",
            "tgl_pengaduan": "2024-03-05",
            "nik": "3201010101010001",
            "status": "0",
        }

    def record_id(self, record: NativeRecord) -> str:
        return str(record["id_pengaduan"])

    def followup_record(self, n: int) -> NativeRecord:
        return {"tanggapan": f"Sudah ditindaklanjuti ({n})", "tgl_tanggapan": "2024-03-06"}

    def status_fields(self) -> NativeRecord:
        return {"status": "proses"}

    def test_added_followup_is_listed_exactly_once(self, connector: Connector) -> None:
        """add_followup's follow-up is listed once by followups, under the id it returned."""
        # The contract's version reads the follow-up id from "id"; here it is id_tanggapan.
        record_id = self._create(connector, 1)
        followup = self.followup_record(1)
        new_id = connector.add_followup(record_id, followup, [])
        listed = connector.followups(record_id)
        assert self._contents(listed) == [followup["tanggapan"]]
        assert [str(f["id_tanggapan"]) for f in listed] == [new_id]

    def make_unreachable_connector(self) -> Connector:
        scheme = "mysql" if self.db.backend == "mariadb" else "postgresql"
        url = f"{scheme}://root@127.0.0.1:{closed_port()}/nothing"
        return make_connector(self.db, self.tmp_path, self.transport, url=url)


class TestSqlScanContract(TestSqlContract):
    transport: ClassVar[dict[str, Any]] = {
        k: v for k, v in CONTRACT_TRANSPORT.items() if k != "updated_at_column"
    }
