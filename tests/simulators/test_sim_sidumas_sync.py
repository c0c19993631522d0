"""The SIDUMAS simulator's two-way routes: responses, status writes, references, list fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bridge.testing.simulators._common import ManualClock
from bridge.testing.simulators.server import RunningServer
from bridge.testing.simulators.sidumas import create_app
from bridge.testing.simulators.sidumas_state import SidumasState
from tests.simulators.conftest import sidumas_login

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]
NEW = {"topik": "Lampu jalan mati", "uraian": "Sudah sebulan gelap.", "kategori_id": 1}


@pytest.fixture
def state(clock: ManualClock) -> SidumasState:
    return SidumasState(clock=clock)


@pytest.fixture
def sidumas(state: SidumasState, serve: Serve, client: MakeClient) -> httpx.Client:
    """A logged-in client of an empty simulator whose clock starts at 09:00 WITA."""
    return sidumas_login(client(serve(create_app(state)).url))


def add(sidumas: httpx.Client, **changes: Any) -> int:
    response = sidumas.post("/api/pengaduan/add", json={**NEW, **changes})
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["id"])


def detail(sidumas: httpx.Client, pengaduan_id: int) -> dict[str, Any]:
    answer = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": pengaduan_id})
    data: dict[str, Any] = answer.json()["data"]
    return data


# -- POST /api/pengaduan/tanggapan ---------------------------------------------------------------
def test_tanggapan_is_appended_as_official_and_bumps_updated_at(
    sidumas: httpx.Client, clock: ManualClock
) -> None:
    """A JSON tanggapan answers its id, is listed with a WITA time, tipe 1, and bumps updated_at."""
    pengaduan_id = add(sidumas)
    assert detail(sidumas, pengaduan_id)["updated_at"] == "2026-03-02 09:00:00"
    clock.advance(minutes=5)
    body = {"pengaduan_id": pengaduan_id, "tanggapan": "Sedang dicek", "nama": "LAPOR!"}
    answer = sidumas.post("/api/pengaduan/tanggapan", json=body).json()
    assert answer["success"] is True
    (listed,) = sidumas.get(
        "/api/pengaduan/tindaklanjut", params={"pengaduan_id": pengaduan_id}
    ).json()["data"]
    assert listed["id"] == answer["data"]["id"]
    assert (listed["tipe"], listed["tanggapan"], listed["nama"]) == (1, "Sedang dicek", "LAPOR!")
    assert listed["created_at"] == "2026-03-02 09:05:00"
    record = detail(sidumas, pengaduan_id)
    assert (record["updated_at"], record["status"]) == ("2026-03-02 09:05:00", 0)


def test_tanggapan_with_status_id_moves_the_status(sidumas: httpx.Client) -> None:
    """A tanggapan carrying status_id also moves the complaint's status and label."""
    pengaduan_id = add(sidumas)
    body = {"pengaduan_id": pengaduan_id, "tanggapan": "Diproses", "status_id": 2, "tipe": 0}
    assert sidumas.post("/api/pengaduan/tanggapan", json=body).status_code == 200
    record = detail(sidumas, pengaduan_id)
    assert (record["status"], record["status_pengaduan"]) == (2, "Diproses")
    assert record["tanggapans"][0]["tipe"] == 0


def test_tanggapan_as_form_with_file_urls_in_json(sidumas: httpx.Client) -> None:
    """A form tanggapan is accepted; a JSON one keeps the file URLs it lists."""
    pengaduan_id = add(sidumas)
    form = {"pengaduan_id": str(pengaduan_id), "tanggapan": "Lewat form"}
    assert sidumas.post("/api/pengaduan/tanggapan", data=form).status_code == 200
    body = {"pengaduan_id": pengaduan_id, "tanggapan": "Foto", "files": ["https://x/y/bukti.png"]}
    assert sidumas.post("/api/pengaduan/tanggapan", json=body).status_code == 200
    first, second = detail(sidumas, pengaduan_id)["tanggapans"]
    assert first["tanggapan"] == "Lewat form"
    assert second["files"] == [{"nama": "bukti.png", "url": "https://x/y/bukti.png"}]


@pytest.mark.parametrize(
    ("body", "status_code", "field"),
    [
        ({"tanggapan": "x"}, 422, "pengaduan_id"),
        ({"pengaduan_id": 1}, 422, "tanggapan"),
        ({"pengaduan_id": 1, "tanggapan": "x", "status_id": 9}, 422, "9"),
        ({"pengaduan_id": 99, "tanggapan": "x"}, 404, "99"),
    ],
)
def test_bad_tanggapan_is_refused(
    sidumas: httpx.Client, body: dict[str, Any], status_code: int, field: str
) -> None:
    """Missing fields and unknown statuses get 422, an unknown complaint 404; nothing is stored."""
    pengaduan_id = add(sidumas)
    response = sidumas.post("/api/pengaduan/tanggapan", json=body)
    assert response.status_code == status_code
    assert response.json()["success"] is False
    assert field in response.json()["message"]
    assert detail(sidumas, pengaduan_id)["tanggapans"] == []


def test_write_routes_need_the_token(serve: Serve, client: MakeClient) -> None:
    """tanggapan and status writes without a bearer token get 401."""
    anonymous = client(serve(create_app()).url)
    for path in ("/api/pengaduan/tanggapan", "/api/pengaduan/status"):
        assert anonymous.post(path, json={}).status_code == 401


# -- POST /api/pengaduan/status ------------------------------------------------------------------
def test_status_write_sets_code_label_and_updated_at(
    sidumas: httpx.Client, clock: ManualClock
) -> None:
    """pengaduan/status sets status and status_pengaduan, and bumps updated_at."""
    pengaduan_id = add(sidumas)
    clock.advance(hours=1)
    answer = sidumas.post("/api/pengaduan/status", json={"pengaduan_id": pengaduan_id, "status": 3})
    assert answer.json()["data"] == {"id": pengaduan_id, "status": 3, "status_pengaduan": "Selesai"}
    record = detail(sidumas, pengaduan_id)
    assert (record["status"], record["updated_at"]) == (3, "2026-03-02 10:00:00")


@pytest.mark.parametrize(("status", "code"), [(7, 422), ("selesai", 422), (None, 422)])
def test_unknown_status_is_refused(sidumas: httpx.Client, status: Any, code: int) -> None:
    """A status outside the table (or none) is refused with 422 and changes nothing."""
    pengaduan_id = add(sidumas)
    body = {"pengaduan_id": pengaduan_id, "status": status}
    assert sidumas.post("/api/pengaduan/status", json=body).status_code == code
    assert detail(sidumas, pengaduan_id)["status"] == 0


def test_status_of_an_unknown_complaint_is_404(sidumas: httpx.Client) -> None:
    """A status write for an id SIDUMAS does not know gets 404."""
    response = sidumas.post("/api/pengaduan/status", json={"pengaduan_id": 5, "status": 1})
    assert response.status_code == 404


def test_officer_status_control_route(sidumas: httpx.Client, clock: ManualClock) -> None:
    """/_sim/pengaduan/{id}/status is an officer moving the status inside SIDUMAS."""
    pengaduan_id = add(sidumas)
    clock.advance(minutes=1)
    moved = sidumas.post(f"/_sim/pengaduan/{pengaduan_id}/status", json={"status": 4}).json()
    assert (moved["status"], moved["status_pengaduan"]) == (4, "Ditolak")
    assert detail(sidumas, pengaduan_id)["updated_at"] == "2026-03-02 09:01:00"
    assert sidumas.post(f"/_sim/pengaduan/{pengaduan_id}/status", json={}).status_code == 422


# -- ref_eksternal and the listing ---------------------------------------------------------------
def test_ref_eksternal_is_kept_and_searchable(sidumas: httpx.Client) -> None:
    """ref_eksternal given on add is kept and matched by list?s= as a substring."""
    add(sidumas)
    wanted = add(sidumas, ref_eksternal="lb0123456789abcdef")
    assert detail(sidumas, wanted)["ref_eksternal"] == "lb0123456789abcdef"
    found = sidumas.get("/api/pengaduan/list", params={"s": "LB0123456789"}).json()["data"]
    assert [item["id"] for item in found["data"]] == [wanted]
    assert detail(sidumas, wanted - 1)["ref_eksternal"] is None


def test_search_also_matches_the_ticket_number(sidumas: httpx.Client) -> None:
    """list?s= matches no_tiket too."""
    add(sidumas)
    second = add(sidumas)
    found = sidumas.get("/api/pengaduan/list", params={"s": "-000002"}).json()["data"]["data"]
    assert [item["id"] for item in found] == [second]


def test_list_items_carry_response_count_and_updated_at(
    sidumas: httpx.Client, clock: ManualClock
) -> None:
    """List items have jumlah_tanggapan and updated_at, never the tanggapans themselves."""
    pengaduan_id = add(sidumas)
    clock.advance(minutes=30)
    body = {"pengaduan_id": pengaduan_id, "tanggapan": "Cek"}
    sidumas.post("/api/pengaduan/tanggapan", json=body)
    sidumas.post("/api/pengaduan/tanggapan", json=body)
    (item,) = sidumas.get("/api/pengaduan/list").json()["data"]["data"]
    assert "tanggapans" not in item
    assert (item["jumlah_tanggapan"], item["updated_at"]) == (2, "2026-03-02 09:30:00")


def test_seeded_records_are_updated_at_their_last_response() -> None:
    """Seeded records carry updated_at: their last response's time, or their tanggal."""
    state = SidumasState()
    state.seed(20)
    for rec in state.records:
        times = [t["created_at"] for t in rec["tanggapans"]] or [rec["tanggal"]]
        assert rec["updated_at"] == times[-1]
