"""The generic REST connector, configured for SIDUMAS, passes the contract over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.connectors.rest import RestConnector, RestSettings
from bridge.http import RetrySettings
from bridge.testing.contract import ConnectorContract, closed_port_url
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from bridge.testing.simulators.sidumas import DEMO_EMAIL, DEMO_PASSWORD, create_app
from bridge.testing.simulators.sidumas_state import SidumasState

NO_WAIT = RetrySettings(attempts=2, wait_initial=0, wait_max=0)
pytestmark = pytest.mark.e2e

# SIDUMAS is `rest` plus these settings: no SIDUMAS-specific code (DOMAIN.md §3).
SIDUMAS: dict[str, Any] = {
    "type": "rest",
    "auth": "login",
    "username": DEMO_EMAIL,
    "password": DEMO_PASSWORD,
    "token_path": "data.token",
    "list_path": "pengaduan/list",
    "records_path": "data.data",
    "last_page_path": "data.last_page",
    "detail_path": "pengaduan/detail",
    "detail_id_param": "pengaduan_id",
    "detail_records_path": "data",
    "create_path": "pengaduan/add",
    "created_id_path": "data.id",
    "success_path": "success",
    "ref_field": "ref_eksternal",  # [A] the integrated system's reference
    "search_param": "s",
    "followups_path": "pengaduan/tindaklanjut",
    "followups_id_param": "pengaduan_id",
    "followups_records_path": "data",
    "add_followup_path": "pengaduan/tanggapan",
    "add_followup_id_field": "pengaduan_id",
    "added_followup_id_path": "data.id",
    "status_path": "pengaduan/status",
    "status_id_field": "pengaduan_id",
}


@pytest.fixture(scope="module")
def sidumas_sim() -> Iterator[tuple[RunningServer, SidumasState]]:
    state = SidumasState()
    with serve_in_thread(create_app(state, per_page=ConnectorContract.page_size)) as server:
        yield server, state


class TestSidumasContract(ConnectorContract):
    followup_content_field = "tanggapan"

    @pytest.fixture(autouse=True)
    def _simulator(self, sidumas_sim: tuple[RunningServer, SidumasState]) -> None:
        server, state = sidumas_sim
        state.reset()
        self.url = server.url

    def settings(self, base_url: str) -> RestSettings:
        return RestSettings.model_validate(
            {**SIDUMAS, "base_url": base_url + "/api/", "page_size": self.page_size}
        )

    def make_connector(self) -> Connector:
        return RestConnector("sidumas", self.settings(self.url), retry=NO_WAIT)

    def make_unreachable_connector(self) -> Connector:
        return RestConnector("sidumas", self.settings(closed_port_url().rstrip("/")), retry=NO_WAIT)

    def followup_record(self, n: int) -> NativeRecord:
        return {"tanggapan": f"Lampu sudah diganti {n}", "nama": "Dinas PUPR", "tipe": 1}

    def status_fields(self) -> NativeRecord:
        return {"status": 2}

    def sample_record(self, n: int) -> NativeRecord:
        return {
            "topik": f"Lampu jalan mati {n}",
            "uraian": f"Lampu penerangan jalan di banjar mati sejak seminggu, laporan {n}.",
            "kategori_id": 1,
            "hide_identitas": 1,
            "hide_pengaduan": 0,
        }
