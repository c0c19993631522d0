"""The spreadsheet connector passes the connector contract over a folder of CSV exports.

The connector cannot create, so the contract's create-based tests skip themselves; the
tests below prove the same behaviour (pages, get, every record once) over files written
beforehand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bridge.connector import Connector, NativeRecord
from bridge.connectors.spreadsheet import SpreadsheetConnector, SpreadsheetSettings
from bridge.testing.contract import ConnectorContract

HEADER = ["Tracking ID", "Judul Laporan", "Isi Laporan Awal"]
ROWS = 5  # more than two pages of ConnectorContract.page_size


class TestSpreadsheetContract(ConnectorContract):
    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path / "exports"
        self.folder.mkdir()
        with (self.folder / "lapor.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerows([["Laporan SP4N-LAPOR!"], [], HEADER])
            writer.writerows(self.sample_row(n) for n in range(1, ROWS + 1))

    def settings(self, path: Path) -> SpreadsheetSettings:
        return SpreadsheetSettings(
            type="spreadsheet", path=str(path), id_column="Tracking ID", page_size=self.page_size
        )

    def make_connector(self) -> Connector:
        return SpreadsheetConnector("export", self.settings(self.folder))

    def make_unreachable_connector(self) -> Connector:
        # An export on a share that is not mounted: the folder lists it, opening it fails.
        (self.folder / "lapor.csv").unlink()
        (self.folder / "lapor.csv").symlink_to(self.folder / "unmounted" / "lapor.csv")
        return SpreadsheetConnector("export", self.settings(self.folder))

    def record_id(self, record: NativeRecord) -> str:
        return str(record["Tracking ID"])

    def sample_row(self, n: int) -> list[str]:
        return [str(4100000 + n), f"Jalan rusak {n}", f"Laporan nomor {n}"]

    def sample_record(self, n: int) -> NativeRecord:
        return dict(zip(HEADER, self.sample_row(n), strict=True))

    # -- the contract's create-based tests, over the files written above ---------------------

    def test_pull_yields_every_written_row_once_over_pages(self, connector: Connector) -> None:
        """Rows spread over several pages are each yielded exactly once, as non-empty lists."""
        pages = list(connector.pull())
        assert len(pages) > 1
        assert all(isinstance(page, list) and page for page in pages)
        ids = [self.record_id(r) for page in pages for r in page]
        assert sorted(ids) == [str(4100000 + n) for n in range(1, ROWS + 1)]

    def test_get_finds_a_written_row(self, connector: Connector) -> None:
        """get returns the record pull lists for the same id."""
        record = connector.get("4100003")
        assert record is not None
        assert record["Judul Laporan"] == self.sample_record(3)["Judul Laporan"]
