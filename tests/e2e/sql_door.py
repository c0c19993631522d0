"""A PHP + MySQL complaint app's database as a bridge door, beside the LAPOR! simulator.

``door`` (import ``door_fixture`` to register it, with ``sql_db_fixture``) serves the
LAPOR! simulator on loopback and writes a ``bridge.toml`` that reads a fresh database
of the typical PHP schema (DOMAIN.md §3) through the ``sql`` connector and the shipped
``mappings/pengaduan-php.toml``, as is. Two routes: ``pengaduan-to-lapor`` carries
complaints and their responses to LAPOR!; ``lapor-to-pengaduan`` carries LAPOR!'s
follow-ups back into ``tanggapan`` (the sql connector creates no complaints).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import ColumnElement, func, literal_column, select

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, mappings_dir
from bridge.ledger import Ledger
from bridge.sync import CycleReport, build_routes, close_routes, run_cycle
from bridge.testing.simulators import lapor
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread
from tests.simulated import hub_by_ref
from tests.sqlfixtures import SHIPPED_MAPPING, SqlDb

TO_LAPOR = "pengaduan-to-lapor"
FROM_LAPOR = "lapor-to-pengaduan"
AGENCY = 1001  # the institution id the shipped lapor mapping files complaints under
SECRETS = {k: v for k, v in DEMO_SECRETS.items() if "__LAPOR__" in k}
"""The LAPOR! simulator's demo credentials (the demo's SIDUMAS ones name no connector here)."""

LAPOR_HEAD = """\
[ledger]
url = "sqlite:///{ledger}"

[agency]
institution_id = "1001"
location_id = "5103"
channel = "9"

[connectors.lapor]
type = "lapor"
base_url = "{lapor_url}"
auth_header = "auth"
mapping = "{mappings}/lapor.toml"
"""
"""A config's ledger, agency and LAPOR! simulator connector (its section still open)."""

_CONFIG = (
    LAPOR_HEAD
    + """
[connectors.pengaduan]
type = "sql"
url = "{db_url}"
mapping = "{mapping}"
# The default hold-back (5 s) stays: seeded rows are stamped minutes ago by the database.

[[routes]]
name = "{to_lapor}"
source = "pengaduan"
target = "lapor"

[[routes]]
name = "{from_lapor}"
source = "lapor"
target = "pengaduan"
"""
)

CITIZENS = (
    ("3201010101010001", "Budi Santoso", "budi", "081234560001"),
    ("3201010101010002", "Siti Aminah", "siti", "081234560002"),
    ("3201010101010003", "Made Wirawan", "made", "081234560003"),
    ("3201010101010004", "Ni Luh Putu Ayu", "luhayu", "081234560004"),
    ("3201010101010005", "I Ketut Darma", "ketut", "081234560005"),
)
SEEDED = 25
SEED_AGE = timedelta(minutes=30)
"""Seeded rows are stamped this long before the database's now (well past the hold-back)."""


@dataclass
class Door:
    """The database, the LAPOR! simulator and the bridge configuration that joins them."""

    db: SqlDb
    hub: RunningServer
    hub_state: LaporState
    config_path: Path

    def sync(self, route: str, *, later: timedelta = timedelta(0)) -> CycleReport:
        """One cycle of ``route`` with the real config, connectors and ledger.

        ``later`` moves the route's clock forward, so re-polls scheduled for then are due
        now, without waiting.
        """
        return sync_route(self.config_path, route, later=later)

    def reconfigure(self, *, mapping: Path | None = None, db_url: str | None = None) -> None:
        """Point the sql door at another mapping file or database user (the next sync uses it)."""
        text = self.config_path.read_text(encoding="utf-8")
        if mapping is not None:
            text = text.replace(f'mapping = "{SHIPPED_MAPPING}"', f'mapping = "{mapping}"')
        if db_url is not None:
            text = text.replace(f'url = "{self.db.url}"', f'url = "{db_url}"')
        self.config_path.write_text(text, encoding="utf-8")

    def ledger(self) -> Ledger:
        """The bridge's ledger (a context manager: close it after reading)."""
        return Ledger.open(load_config(self.config_path, environ=SECRETS).ledger.url)

    def write_in_lapor(self, tracking_id: str, content: str) -> None:
        """An officer answers complaint ``tracking_id`` inside LAPOR! itself."""
        body = {"content": content, "institution_from_id": AGENCY, "author": "Admin LAPOR!"}
        response = httpx.post(f"{self.hub.url}/_sim/complaints/{tracking_id}/followups", json=body)
        response.raise_for_status()

    def hub_by_ref(self) -> dict[str, list[dict[str, Any]]]:
        """LAPOR! complaints by the bridge reference in their ``#lb…`` tag."""
        return hub_by_ref(self.hub_state.complaints.values())

    def lapor_followups(self, complaint: dict[str, Any]) -> list[str]:
        """The follow-up texts LAPOR! holds for ``complaint`` (read fresh), oldest first."""
        return [f["content"] for f in self.hub_state.complaints[complaint["id"]]["followups"]]

    def responses(self, complaint_id: int) -> list[str]:
        """The ``tanggapan`` texts of one complaint, in id order."""
        table = self.db.table("tanggapan")
        query = (
            select(table.c.tanggapan)
            .where(table.c.id_pengaduan == complaint_id)
            .order_by(table.c.id_tanggapan)
        )
        with self.db.engine.connect() as conn:
            return [str(value) for value in conn.execute(query).scalars()]

    def updated_at(self, complaint_id: int) -> datetime:
        table = self.db.table("pengaduan")
        query = select(table.c.updated_at).where(table.c.id_pengaduan == complaint_id)
        with self.db.engine.connect() as conn:
            value = conn.execute(query).scalar_one()
        assert isinstance(value, datetime)
        return value

    def newest_updated_at(self, ids: list[int]) -> datetime:
        table = self.db.table("pengaduan")
        query = select(func.max(table.c.updated_at)).where(table.c.id_pengaduan.in_(ids))
        with self.db.engine.connect() as conn:
            value = conn.execute(query).scalar_one()
        assert isinstance(value, datetime)
        return value


def sync_route(config_path: Path, route: str, *, later: timedelta = timedelta(0)) -> CycleReport:
    """One cycle of ``route`` with the real config (LAPOR!'s demo credentials), connectors and
    ledger; ``later`` moves the route's clock forward (re-polls due then are due now)."""
    config = load_config(config_path, environ=SECRETS)
    with Ledger.open(config.ledger.url) as ledger:
        routes = build_routes(config, ledger, only=route)
        try:
            [wired] = routes
            if later:
                wired = dataclasses.replace(wired, clock=lambda: datetime.now(UTC) + later)
            return run_cycle(wired)
        finally:
            close_routes(routes)


def db_time_ago(db: SqlDb, seconds: int) -> ColumnElement[Any]:
    """The database's own clock minus ``seconds``, as SQL (never this machine's clock)."""
    if db.backend == "mariadb":
        return literal_column(f"NOW(6) - INTERVAL {int(seconds)} SECOND")
    return literal_column(f"LOCALTIMESTAMP - INTERVAL '{int(seconds)} seconds'")


def content(n: int) -> str:
    """The text of seeded complaint ``n``."""
    return f"Jalan di banjar {n} berlubang sejak musim hujan, mohon diperbaiki."


def seed(db: SqlDb, count: int = SEEDED, *, binary_titles: bool = False) -> list[int]:
    """Citizens, ``count`` complaints (oldest first) and a response to every fifth one."""
    for nik, nama, username, telp in CITIZENS:
        db.insert("masyarakat", nik=nik, nama=nama, username=username, telp=telp)
    ids = []
    base = int(SEED_AGE.total_seconds())
    for n in range(1, count + 1):
        title = f"Jalan rusak di banjar {n}"
        complaint_id = db.complaint(
            n,
            nik=CITIZENS[n % len(CITIZENS)][0],
            judul=title.encode() if binary_titles else title,
            isi_laporan=content(n),
            updated_at=db_time_ago(db, base - n),
        )
        ids.append(complaint_id)
        if n % 5 == 0:
            db.insert(
                "tanggapan",
                id_pengaduan=complaint_id,
                tgl_tanggapan="2024-03-06",
                tanggapan=f"Laporan {n} sudah kami teruskan ke Dinas PUPR.",
                id_petugas=1,
            )
    return ids


def write_config(directory: Path, db_url: str, lapor_url: str) -> Path:
    path = directory / "bridge.toml"
    path.write_text(
        _CONFIG.format(
            ledger=directory / "bridge.db",
            lapor_url=lapor_url,
            mappings=mappings_dir(),
            db_url=db_url,
            mapping=SHIPPED_MAPPING,
            to_lapor=TO_LAPOR,
            from_lapor=FROM_LAPOR,
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture(name="door")
def door_fixture(sql_db: SqlDb, tmp_path: Path) -> Iterator[Door]:
    """An empty PHP-schema database (MariaDB and PostgreSQL), LAPOR! on loopback, a config."""
    hub_state = LaporState()
    with serve_in_thread(lapor.create_app(hub_state)) as hub:
        path = write_config(tmp_path, sql_db.url, hub.url)
        yield Door(sql_db, hub, hub_state, path)
