"""The SIDUMAS simulator over real HTTP: login, envelope, pages, create, files, seeding, state."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.testing.simulators.corpus import CorpusEntry
from bridge.testing.simulators.server import RunningServer
from bridge.testing.simulators.sidumas import create_app
from bridge.testing.simulators.sidumas_state import SidumasState
from tests.simulators.conftest import SIDUMAS_CREDENTIALS, sidumas_login

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]
NEW = {"topik": "Lampu jalan mati", "uraian": "Sudah sebulan gelap.", "kategori_id": 1}


def start(serve: Serve, client: MakeClient, state: SidumasState, **options: Any) -> httpx.Client:
    return sidumas_login(client(serve(create_app(state, **options)).url))


@pytest.fixture
def state(corpus: list[CorpusEntry]) -> SidumasState:
    seeded = SidumasState()
    seeded.seed(45, corpus)
    return seeded


@pytest.fixture
def sidumas(state: SidumasState, serve: Serve, client: MakeClient) -> httpx.Client:
    """A logged-in client of a simulator holding 45 seeded complaints, 20 per page."""
    return start(serve, client, state)


# -- auth ----------------------------------------------------------------------------------------
def test_wrong_credentials_are_refused_in_the_envelope(serve: Serve, client: MakeClient) -> None:
    """A bad password gets 401 with success false and data null."""
    anonymous = client(serve(create_app()).url)
    response = anonymous.post("/api/login", json={**SIDUMAS_CREDENTIALS, "password": "salah"})
    assert response.status_code == 401
    assert response.json()["success"] is False
    assert response.json()["data"] is None


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Token abc"])
def test_api_routes_need_a_valid_bearer_token(
    authorization: str | None, serve: Serve, client: MakeClient
) -> None:
    """Without a token issued by /api/login every other /api route answers 401."""
    anonymous = client(serve(create_app()).url)
    headers = {"Authorization": authorization} if authorization else {}
    response = anonymous.get("/api/pengaduan/list", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Unauthenticated.", "data": None}


def test_expired_token_is_refused(serve: Serve, client: MakeClient) -> None:
    """A token past token_ttl_seconds (0 here: expired at once) gets 401, so clients re-login."""
    sidumas = start(serve, client, SidumasState(), token_ttl_seconds=0)
    assert sidumas.get("/api/pengaduan/list").status_code == 401


# -- listing -------------------------------------------------------------------------------------
def test_pages_end_at_last_page_in_id_order(sidumas: httpx.Client) -> None:
    """Pages of 20 ordered by id; last_page is 3 for 45 records and the last page holds 5."""
    ids: list[int] = []
    for page in (1, 2, 3):
        body = sidumas.get("/api/pengaduan/list", params={"page": page}).json()
        assert (body["success"], body["message"]) == (True, "")
        data = body["data"]
        assert (data["current_page"], data["last_page"], data["per_page"]) == (page, 3, 20)
        assert data["total"] == 45
        assert all("tanggapans" not in item and "no_tiket" in item for item in data["data"])
        ids += [item["id"] for item in data["data"]]
    assert ids == list(range(1, 46))
    assert data["next_page_url"] is None


def test_cid_filters_category_and_s_searches_text(sidumas: httpx.Client) -> None:
    """`cid` keeps one category; `s` matches topik or uraian case-insensitively."""
    listed = sidumas.get("/api/pengaduan/list", params={"cid": 3}).json()["data"]["data"]
    assert listed
    assert {item["kategori_name"] for item in listed} == {"Kesehatan"}
    found = sidumas.get("/api/pengaduan/list", params={"s": "KELUHAN NOMOR 7"}).json()["data"]
    assert [item["topik"] for item in found["data"]] == ["Keluhan nomor 7"]


# -- detail, files, responses --------------------------------------------------------------------
def test_detail_carries_every_documented_field(sidumas: httpx.Client) -> None:
    """The detail has the reconstructed fields, with numeric status and its label."""
    data = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": 1}).json()["data"]
    expected = {
        "id", "no_tiket", "topik", "uraian", "tanggal", "pelapor", "user_id", "nik", "telp",
        "email", "kategori_id", "kategori_name", "status", "status_pengaduan", "koordinat_lat",
        "koordinat_lng", "alamat", "hide_identitas", "hide_pengaduan", "opd_id", "files",
        "tanggapans",
    }  # fmt: skip
    assert expected <= set(data)
    assert re.fullmatch(r"SDM-2026-000001", data["no_tiket"])
    assert re.fullmatch(r"2026-\d\d-\d\d \d\d:\d\d:\d\d", data["tanggal"])


def test_attachment_urls_are_absolute_and_need_auth(
    sidumas: httpx.Client, state: SidumasState, client: MakeClient
) -> None:
    """files[].url points at the simulator and serves the bytes only with a token."""
    record = next(r for r in state.records if r["files"])
    data = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": record["id"]}).json()
    url = data["data"]["files"][0]["url"]
    assert url.startswith(str(sidumas.base_url).rstrip("/") + "/api/files/")
    content = sidumas.get(url).content
    assert content.startswith((b"\x89PNG", b"%PDF"))
    assert client(str(sidumas.base_url)).get(url).status_code == 401


def test_responses_are_listed_by_tindaklanjut(sidumas: httpx.Client) -> None:
    """An officer's response added on the side shows in tindaklanjut and moves the status."""
    added = sidumas.post(
        "/_sim/pengaduan/2/tanggapan",
        json={"tipe": 1, "status_id": 3, "tanggapan": "Sudah diperbaiki", "nama": "Dinas PUPR"},
    ).json()
    listed = sidumas.get("/api/pengaduan/tindaklanjut", params={"pengaduan_id": 2}).json()
    assert listed["data"][-1] == added
    detail = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": 2}).json()["data"]
    assert (detail["status"], detail["status_pengaduan"]) == (3, "Selesai")


def test_unknown_complaint_is_404(sidumas: httpx.Client) -> None:
    """Asking for an id that does not exist gives 404 with success false."""
    response = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": 999})
    assert response.status_code == 404
    assert response.json()["success"] is False


# -- create --------------------------------------------------------------------------------------
def test_add_as_json_creates_a_waiting_complaint(sidumas: httpx.Client) -> None:
    """pengaduan/add returns the new id and ticket; the record starts as 0 Menunggu."""
    payload = {**NEW, "atas_nama": "Budi Santoso", "lat": -8.66, "lng": 115.16, "hide_pengaduan": 1}
    created = sidumas.post("/api/pengaduan/add", json=payload).json()["data"]
    assert created["id"] == 46
    assert re.fullmatch(r"SDM-\d{4}-000046", created["no_tiket"])
    detail = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": 46}).json()["data"]
    assert (detail["status"], detail["status_pengaduan"]) == (0, "Menunggu")
    assert (detail["pelapor"], detail["hide_pengaduan"]) == ("Budi Santoso", 1)
    assert detail["opd_id"] == 203  # routed by location: Kerobokan, Kuta Utara


def test_add_as_form_stores_uploaded_files(sidumas: httpx.Client) -> None:
    """A multipart add keeps its files, which are then served back."""
    files = {"files[]": ("foto.png", b"\x89PNG-bytes", "image/png")}
    created = sidumas.post("/api/pengaduan/add", data=NEW, files=files).json()["data"]
    detail = sidumas.get("/api/pengaduan/detail", params={"pengaduan_id": created["id"]})
    (stored,) = detail.json()["data"]["files"]
    assert stored["nama"] == "foto.png"
    assert sidumas.get(stored["url"]).content == b"\x89PNG-bytes"


@pytest.mark.parametrize("missing", ["topik", "uraian", "kategori_id"])
def test_add_without_a_required_field_gets_422(missing: str, sidumas: httpx.Client) -> None:
    """topik, uraian and kategori_id are required; the message names the missing one."""
    payload = {k: v for k, v in NEW.items() if k != missing}
    response = sidumas.post("/api/pengaduan/add", json=payload)
    assert response.status_code == 422
    assert missing in response.json()["message"]


def test_desa_maps_a_point_to_a_village_and_agency(sidumas: httpx.Client) -> None:
    """desa?lat=&lng= names the nearest village and its opd_id, the same every time."""
    data = sidumas.get("/api/desa", params={"lat": -8.79, "lng": 115.15}).json()["data"]
    assert (data["desa"], data["opd_id"]) == ("Jimbaran", 201)


# -- control routes and state --------------------------------------------------------------------
def test_injected_raw_record_is_listed_as_is(sidumas: httpx.Client) -> None:
    """A malformed record posted to /_sim/pengaduan gets an id and is listed unchanged."""
    injected = sidumas.post("/_sim/pengaduan", json={"topik": None, "files": "rusak"}).json()
    assert injected["id"] == 46
    last = sidumas.get("/api/pengaduan/list", params={"page": 3}).json()["data"]["data"][-1]
    assert last == {"id": 46, "topik": None, "files": "rusak"}


def test_seeding_is_deterministic_and_realistic(corpus: list[CorpusEntry]) -> None:
    """The same seed gives the same records, with plausible NIKs, phones, places and flags."""
    one, two = SidumasState(), SidumasState()
    one.seed(60, corpus)
    two.seed(60, corpus)
    assert one.records == two.records
    assert one.files == two.files
    recs = one.records
    assert all(re.fullmatch(r"\d{16}", r["nik"]) and r["telp"].startswith("08") for r in recs)
    assert all(-8.8 <= r["koordinat_lat"] <= -8.5 for r in recs)
    assert all(115.1 <= r["koordinat_lng"] <= 115.3 for r in recs)
    assert [r["tanggal"] for r in recs] == sorted(r["tanggal"] for r in recs)
    assert 0 < sum(r["hide_identitas"] for r in recs) < 30
    assert 0 < sum(1 for r in recs if r["files"]) < 40


def test_a_persisted_seeded_state_is_not_reseeded(
    tmp_path: Path, corpus: list[CorpusEntry]
) -> None:
    """A second run over the same state file reuses its records instead of adding more."""
    path = tmp_path / "sidumas.json"
    assert SidumasState(path).seed(10, corpus) == 10
    again = SidumasState(path)
    assert again.seed(10, corpus) == 0
    assert [r["topik"] for r in again.records] == [e.title for e in corpus[:10]]
    assert again.file_bytes(next(iter(again.files))) is not None


def test_persisted_state_survives_a_new_app(
    tmp_path: Path, serve: Serve, client: MakeClient
) -> None:
    """A complaint created through one app is there for a new app over the same file."""
    path = tmp_path / "sidumas.json"
    first = start(serve, client, SidumasState(path))
    created = first.post("/api/pengaduan/add", json=NEW).json()["data"]
    second = start(serve, client, SidumasState(path))
    detail = second.get("/api/pengaduan/detail", params={"pengaduan_id": created["id"]})
    assert detail.json()["data"]["topik"] == NEW["topik"]


def test_seed_reset_and_stats_control_routes(serve: Serve, client: MakeClient) -> None:
    """/_sim/seed seeds once, /_sim/stats counts, /_sim/reset empties."""
    sidumas = start(serve, client, SidumasState())
    assert sidumas.post("/_sim/seed", json={"n": 5}).json() == {"added": 5}
    assert sidumas.post("/_sim/seed", json={"n": 5}).json() == {"added": 0}
    sidumas.get("/api/pengaduan/list")
    stats = sidumas.get("/_sim/stats").json()
    assert (stats["records"], stats["logins"]) == (5, 1)
    assert stats["routes"]["GET /api/pengaduan/list"] == 1
    sidumas.post("/_sim/reset")
    assert sidumas.get("/_sim/pengaduan").json() == []
