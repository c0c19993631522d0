"""The Open311 connector passes the contract over real HTTP against the GeoReport v2 simulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.http import RetrySettings
from bridge.testing.contract import ConnectorContract, closed_port_url
from bridge.testing.simulators.open311 import DEMO_API_KEY, create_app
from bridge.testing.simulators.open311_state import Open311State
from bridge.testing.simulators.server import RunningServer, serve_in_thread

NO_WAIT = RetrySettings(attempts=2, wait_initial=0, wait_max=0)
JURISDICTION = "badungkab.go.id"
pytestmark = pytest.mark.e2e


class TickingClock:
    """Real time at start, then one second more on every reading: each write gets its own second.

    GeoReport v2 servers keep whole seconds; with the cap at ``page_size`` this lets the
    connector split full windows down to seconds that each hold fewer records than the cap.
    """

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(scope="module")
def open311_sim() -> Iterator[tuple[RunningServer, Open311State, TickingClock]]:
    clock = TickingClock()
    state = Open311State(clock=clock)
    app = create_app(state, max_results=TestOpen311Contract.page_size, jurisdiction_id=JURISDICTION)
    with serve_in_thread(app) as server:
        yield server, state, clock


class TestOpen311Contract(ConnectorContract):
    page_size: ClassVar[int] = 3
    followup_content_field = "description"

    @pytest.fixture(autouse=True)
    def _simulator(self, open311_sim: tuple[RunningServer, Open311State, TickingClock]) -> None:
        server, state, clock = open311_sim
        state.reset()
        clock.restart()
        self.url = server.url

    def settings(self, base_url: str) -> Open311Settings:
        values: dict[str, Any] = {
            "type": "open311",
            "base_url": base_url + "/open311/v2/",
            "jurisdiction_id": JURISDICTION,
            "api_key": DEMO_API_KEY,
            "max_results": self.page_size,
        }
        return Open311Settings.model_validate(values)

    def make_connector(self) -> Connector:
        return Open311Connector("open311", self.settings(self.url), retry=NO_WAIT)

    def make_unreachable_connector(self) -> Connector:
        url = closed_port_url().rstrip("/")
        return Open311Connector("open311", self.settings(url), retry=NO_WAIT)

    def record_id(self, record: NativeRecord) -> str:
        return str(record["service_request_id"])

    def followup_record(self, n: int) -> NativeRecord:
        return {"description": f"Lubang sudah ditambal, laporan {n}"}

    def status_fields(self) -> NativeRecord:
        return {"status": "closed"}

    def sample_record(self, n: int) -> NativeRecord:
        return {
            "service_code": "pothole",
            "description": f"Jalan berlubang di depan banjar, laporan {n}.",
            "lat": -8.65,
            "long": 115.2,
            "first_name": "Made",
        }
