"""A route from a memory 'local door' (SIDUMAS-shaped records) to a memory 'LAPOR!'."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.sync import Route
from tests.conftest import MAPPINGS

NIK = "5103011201900001"
PHONE = "081234567890"
EMAIL = "made.wirawan@example.id"


def door_record(i: int, **changes: Any) -> dict[str, Any]:
    """A valid SIDUMAS-shaped complaint with personal data in it."""
    record: dict[str, Any] = {
        "id": str(i),
        "no_tiket": f"SDM-2026-{i:06d}",
        "topik": f"Jalan berlubang di Banjar {i}",
        "uraian": "Mohon segera diperbaiki, sudah membahayakan pengendara motor.",
        "tanggal": "2026-03-01 10:00:00",
        "pelapor": "Made Wirawan",
        "user_id": 7,
        "nik": NIK,
        "telp": PHONE,
        "email": EMAIL,
        "kategori_id": 1,
        "status": 0,
        "status_pengaduan": "Menunggu",
        "koordinat_lat": -8.6,
        "koordinat_lng": 115.2,
        "alamat": "Jl. Raya Kuta",
        "hide_identitas": 0,
        "hide_pengaduan": 0,
        "opd_id": 12,
        "files": [],
    }
    record.update(changes)
    return record


def memory(name: str, *, feed: str = "scan", page_size: int = 10, **extra: Any) -> MemoryConnector:
    settings = MemorySettings(type="memory", store=name, feed=feed, page_size=page_size, **extra)
    return MemoryConnector(name, settings)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield opened
    opened.close()


@pytest.fixture
def cursor_mapping(tmp_path: Path) -> Path:
    """The SIDUMAS mapping plus an `updated_at` change feed, for cursor-source tests."""
    text = (MAPPINGS / "sidumas.toml").read_text(encoding="utf-8")
    if 'updated_at = "updated_at"' not in text:
        text = text.replace('id = "id"', 'id = "id"\nupdated_at = "updated_at"', 1)
    path = tmp_path / "door-with-feed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def make_route(
    ledger: Ledger,
    *,
    feed: str = "scan",
    source_mapping: Path | None = None,
    target_confidential: bool = False,
    page_size: int = 10,
) -> Route:
    return Route(
        name="door-to-hub",
        source=memory("door", feed=feed, page_size=page_size),
        target=memory("hub", receives_confidential=target_confidential),
        source_mapping=load_mapping(source_mapping or MAPPINGS / "sidumas.toml"),
        target_mapping=load_mapping(MAPPINGS / "lapor.toml"),
        ledger=ledger,
    )


def hub_of(route: Route) -> MemoryConnector:
    """The route's memory LAPOR! (its target)."""
    assert isinstance(route.target, MemoryConnector)
    return route.target


def door_of(route: Route) -> MemoryConnector:
    """The route's memory local door (its source)."""
    assert isinstance(route.source, MemoryConnector)
    return route.source
