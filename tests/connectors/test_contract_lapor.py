"""The LAPOR! connector passes the connector contract against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.http import RetrySettings
from connectors.lapor import LaporConnector, LaporSettings
from simulators.lapor import create_app
from simulators.lapor_state import LaporState
from simulators.server import RunningServer, serve_in_thread
from tests.contract import ConnectorContract, closed_port_url

NO_WAIT = RetrySettings(attempts=2, wait_initial=0, wait_max=0)
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lapor_sim() -> Iterator[tuple[RunningServer, LaporState]]:
    state = LaporState()
    app = create_app(state, api_key="k3y", api_guid="g-u-i-d", auth_header="Authorization")
    with serve_in_thread(app) as server:
        yield server, state


class TestLaporContract(ConnectorContract):
    @pytest.fixture(autouse=True)
    def _simulator(self, lapor_sim: tuple[RunningServer, LaporState]) -> None:
        server, state = lapor_sim
        state.reset()
        self.url = server.url

    def settings(self, base_url: str) -> LaporSettings:
        return LaporSettings(
            type="lapor",
            base_url=base_url,
            auth_header="Authorization",
            api_key="k3y",
            api_guid="g-u-i-d",
            page_size=self.page_size,
        )

    def make_connector(self) -> Connector:
        return LaporConnector("lapor", self.settings(self.url), retry=NO_WAIT)

    def make_unreachable_connector(self) -> Connector:
        return LaporConnector("lapor", self.settings(closed_port_url()), retry=NO_WAIT)

    def sample_record(self, n: int) -> NativeRecord:
        record: dict[str, Any] = {
            "title": f"Jalan berlubang {n}",
            "content": f"Jalan di depan balai banjar berlubang, laporan {n}.",
            "disposition_id": 1003,
            "category_id": 12,
            "is_anonymous": True,
            "date_of_incident": "01/05/2024",
            "tags_raw": "#jalan",
        }
        return record
