"""The LAPOR! connector passes the connector contract against the simulator over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.http import RetrySettings
from bridge.testing.contract import ConnectorContract, closed_port_url
from bridge.testing.simulators.lapor import create_app
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread

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

    def followup_record(self, n: int) -> NativeRecord:
        return {"institution_from_id": 1003, "content": f"Sudah ditambal {n}", "is_secret": 0}

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


def connector_for(server: RunningServer) -> LaporConnector:
    settings = LaporSettings(
        type="lapor",
        base_url=server.url,
        auth_header="Authorization",
        api_key="k3y",
        api_guid="g-u-i-d",
    )
    return LaporConnector("lapor", settings, retry=NO_WAIT)


def test_get_carries_every_field_the_listing_has(
    lapor_sim: tuple[RunningServer, LaporState],
) -> None:
    """get (#4) holds every summary field of the listing (#9) with the same value."""
    server, state = lapor_sim
    state.reset()
    with connector_for(server) as lapor:
        new_id = lapor.create(TestLaporContract().sample_record(1), [], "lbsummary")
        (listed,) = [r for page in lapor.pull() for r in page]
        detail = lapor.get(new_id)
    assert detail is not None
    assert {key: detail.get(key) for key in listed} == listed
    assert {"status_name", "disposition_name", "status_logs", "data_logs"} <= set(detail)


def test_forward_redisposes_the_complaint(lapor_sim: tuple[RunningServer, LaporState]) -> None:
    """forward (#3) hands the complaint to the target institution in the simulator."""
    server, state = lapor_sim
    state.reset()
    with connector_for(server) as lapor:
        new_id = lapor.create(TestLaporContract().sample_record(1), [], "lbforward")
        lapor.forward(new_id, "2001", "Kewenangan provinsi")
        detail = lapor.get(new_id)
    assert detail is not None
    assert detail["disposition_id"] == 2001
