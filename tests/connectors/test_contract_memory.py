"""The memory connector passes the connector contract."""

from __future__ import annotations

from bridge.connector import Connector, NativeRecord
from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.errors import RetryableError
from bridge.testing.contract import ConnectorContract


class TestMemoryContract(ConnectorContract):
    def make_connector(self) -> Connector:
        settings = MemorySettings(type="memory", page_size=self.page_size)
        return MemoryConnector("memory", settings)

    def sample_record(self, n: int) -> NativeRecord:
        return {"title": f"Jalan rusak {n}", "content": f"Laporan nomor {n}"}

    def make_unreachable_connector(self) -> Connector:
        connector = MemoryConnector("memory", MemorySettings(type="memory"))
        outage = RetryableError("memory: simulated outage")
        connector.fail_next(1, outage, operations=("pull", "followups"))
        return connector

    def followup_record(self, n: int) -> NativeRecord:
        return {"content": f"Sudah ditangani {n}", "author": "Petugas"}

    def status_fields(self) -> NativeRecord:
        return {"status": "in_progress"}


class TestMemoryScanContract(TestMemoryContract):
    def make_connector(self) -> Connector:
        settings = MemorySettings(type="memory", feed="scan", page_size=self.page_size)
        return MemoryConnector("memory", settings)
