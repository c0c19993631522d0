"""The LAPOR! v3 simulator over real HTTP: auth, envelope, pages, validation, faults, state."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.testing.simulators._common import ManualClock
from bridge.testing.simulators.corpus import CorpusEntry
from bridge.testing.simulators.lapor import create_app
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer
from tests.simulators.conftest import LAPOR_HEADERS, NEW_USER

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]


@pytest.fixture
def state(clock: ManualClock) -> LaporState:
    return LaporState(clock=clock)


@pytest.fixture
def lapor(state: LaporState, serve: Serve, client: MakeClient) -> httpx.Client:
    """An authenticated client of a fresh simulator with the default settings."""
    return client(serve(create_app(state)).url, headers=LAPOR_HEADERS)


def start(serve: Serve, client: MakeClient, **options: Any) -> httpx.Client:
    state = options.pop("state", None) or LaporState()
    return client(serve(create_app(state, **options)).url, headers=LAPOR_HEADERS)


def create(lapor: httpx.Client, **changes: Any) -> int:
    response = lapor.post("/complaints/complaint", json={**NEW_USER, **changes})
    assert response.status_code == 200, response.text
    body = response.json()
    return int(body.get("complaint_id") or body["results"]["complaint"]["id"])


# -- auth ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [{}, {"auth": "Bearer demo-key"}, {"token": "demo-guid"}, {**LAPOR_HEADERS, "token": "x"}],
    ids=["none", "bearer-only", "token-only", "wrong-token"],
)
def test_every_api_route_needs_both_headers(
    headers: dict[str, str], serve: Serve, client: MakeClient
) -> None:
    """Without the bearer header AND the token header the API answers 401 in its envelope."""
    anonymous = client(serve(create_app()).url)
    response = anonymous.get("/complaints", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"results": None, "message": "Unauthorized"}


def test_bearer_header_name_is_configurable(serve: Serve, client: MakeClient) -> None:
    """With auth_header="Authorization" (the sandbox) that header carries the bearer token."""
    sandbox = client(serve(create_app(auth_header="Authorization")).url)
    good = {"Authorization": "Bearer demo-key", "token": "demo-guid"}
    assert sandbox.get("/masters/templates", headers=good).status_code == 200
    assert sandbox.get("/masters/templates", headers=LAPOR_HEADERS).status_code == 401


def test_control_routes_need_no_auth(serve: Serve, client: MakeClient) -> None:
    """The /_sim/ routes are open, so tests can inspect state without credentials."""
    anonymous = client(serve(create_app()).url)
    assert anonymous.get("/_sim/stats").status_code == 200
    assert anonymous.get("/_sim/complaints").json() == []


# -- envelope and pagination ---------------------------------------------------------------------
def test_pages_follow_next_page_url_until_null(
    state: LaporState, lapor: httpx.Client, corpus: list[CorpusEntry]
) -> None:
    """Following next_page_url (which keeps the query) visits every complaint once, then stops."""
    state.seed_from_corpus(7, corpus)
    url: str | None = "/complaints?page_size=3"
    seen: list[int] = []
    pages = 0
    while url is not None:
        body = lapor.get(url).json()
        assert set(body) == {"results", "message"}
        seen += [row["id"] for row in body["results"]["data"]]
        url = body["results"]["next_page_url"]
        assert url is None or ("page_size=3" in url and url.startswith("http://"))
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(int(e.tracking_id) for e in corpus[:7])


def test_masters_list_institutions_and_templates(lapor: httpx.Client) -> None:
    """#7 includes Kabupaten Badung (1001); #8 lists templates with their codes."""
    institutions = lapor.get("/masters/institutions/external?page_size=1000").json()["results"]
    assert {"id": 1001, "name": "Pemerintah Kabupaten Badung"} in institutions["data"]
    assert institutions["next_page_url"] is None
    templates = lapor.get("/masters/templates?page_size=1000").json()["results"]["data"]
    assert {"template_code", "title", "type", "content"} <= set(templates[0])


# -- create --------------------------------------------------------------------------------------
def test_alternate_shape_switches_between_top_level_and_nested_ids(lapor: httpx.Client) -> None:
    """The default alternates: complaint_id at the top, then results.complaint.id, and so on."""
    first = lapor.post("/complaints/complaint", json=NEW_USER).json()
    second = lapor.post("/complaints/complaint", json=NEW_USER).json()
    third = lapor.post("/complaints/complaint", json=NEW_USER).json()
    assert first["complaint_id"] == 4100001
    assert second["results"] == {"complaint": {"id": 4100002}}
    assert third["complaint_id"] == 4100003


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("top", {"complaint_id": 4100001}),
        ("nested", {"results": {"complaint": {"id": 4100001}}}),
    ],
)
def test_fixed_create_response_shapes(
    shape: str, expected: dict[str, Any], serve: Serve, client: MakeClient
) -> None:
    """create_response_shape="top" or "nested" always answers in that one shape."""
    lapor = start(serve, client, create_response_shape=shape)
    for _ in range(2):
        body = lapor.post("/complaints/complaint", json=NEW_USER).json()
        assert {k: v for k, v in body.items() if k != "message"}.keys() == expected.keys()
    assert lapor.get("/_sim/stats").json()["creates"] == 2


def test_unknown_response_shape_is_refused_at_construction() -> None:
    """A typo in create_response_shape fails when the app is built, naming the choices."""
    with pytest.raises(ValueError, match="alternate"):
        create_app(create_response_shape="sideways")  # type: ignore[arg-type]


def test_uploaded_documents_can_be_attached_to_a_complaint(lapor: httpx.Client) -> None:
    """Docs from #1 referenced as a JSON-list string in #2 appear in the complaint's detail."""
    files = [
        ("attachments[]", ("foto.png", b"\x89PNG....", "image/png")),
        ("attachments[]", ("surat.pdf", b"%PDF-1.4", "application/pdf")),
    ]
    docs = lapor.post("/complaints/complaint/file", files=files).json()["results"]["docs"]
    assert [(d["name"], d["size"]) for d in docs] == [("foto.png", 8), ("surat.pdf", 8)]
    complaint_id = create(lapor, attachments=json.dumps([d["id"] for d in docs]))
    detail = lapor.get(f"/complaints/{complaint_id}/complaint").json()["results"]["data"]
    assert detail["attachments"] == [{"id": d["id"], "name": d["name"]} for d in docs]


def test_oversized_attachment_is_refused_with_413(serve: Serve, client: MakeClient) -> None:
    """A file above max_attachment_bytes is refused with 413 and a message."""
    lapor = start(serve, client, max_attachment_bytes=10)
    files = [("attachments[]", ("big.pdf", b"x" * 11, "application/pdf"))]
    response = lapor.post("/complaints/complaint/file", files=files)
    assert response.status_code == 413
    assert "big.pdf" in response.json()["message"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"content": None}, "content"),
        ({"disposition_id": None}, "disposition_id"),
        ({"category_id": ""}, "category_id"),
        ({"is_new_user_slider": False}, "user_id"),
        ({"nameUser": " "}, "nameUser"),
        ({"date_of_incident": "2026-03-01"}, "date_of_incident"),
        ({"attachments": [1, 2]}, "attachments"),
        ({"attachments": "[999]"}, "attachments"),
        ({"tags_raw": ["#a"]}, "tags_raw"),
    ],
)
def test_invalid_payloads_get_422_naming_the_field(
    changes: dict[str, Any], field: str, lapor: httpx.Client, state: LaporState
) -> None:
    """Each broken field is refused with 422, the message names it, and nothing is stored."""
    response = lapor.post("/complaints/complaint", json={**NEW_USER, **changes})
    assert response.status_code == 422
    assert response.json()["results"] is None
    assert field in response.json()["message"]
    assert state.complaints == {}


def test_body_that_is_not_json_gets_422(lapor: httpx.Client) -> None:
    """A create whose body is not JSON is refused with 422 in the envelope."""
    response = lapor.post("/complaints/complaint", content=b"title=x")
    assert response.status_code == 422
    assert response.json()["results"] is None


def test_anonymous_complaint_needs_no_reporter(lapor: httpx.Client, state: LaporState) -> None:
    """With is_anonymous set the reporter fields may be absent; what was sent is kept as is."""
    payload = {k: NEW_USER[k] for k in ("title", "content", "disposition_id", "category_id")}
    response = lapor.post("/complaints/complaint", json={**payload, "is_anonymous": True})
    assert response.status_code == 200
    (stored,) = lapor.get("/_sim/complaints").json()
    assert (stored["is_anonymous"], stored["reporter"]) == (1, {})


# -- reading -------------------------------------------------------------------------------------
def test_detail_has_status_and_logs_with_templates(lapor: httpx.Client, clock: ManualClock) -> None:
    """#4 gives status, disposition and data_logs whose `data` is a JSON string."""
    complaint_id = create(lapor, date_of_incident="01/03/2026")
    results = lapor.get(f"/complaints/{complaint_id}/complaint").json()["results"]
    data = results["data"]
    assert (data["status_code"], data["status_name"]) == (0, "Belum Terverifikasi")
    assert data["disposition_name"] == "Pemerintah Kabupaten Badung"
    assert data["created_at"] == "2026-03-02T08:00:00+07:00"
    log = results["data_logs"][0]
    assert "{{ status_new }}" in log["content"]
    assert json.loads(log["data"])["status_new"] == "Belum Terverifikasi"


def test_unknown_complaint_is_404_in_the_envelope(lapor: httpx.Client) -> None:
    """Asking for a tracking id that does not exist gives a 404 envelope."""
    response = lapor.get("/complaints/1234567/complaint")
    assert response.status_code == 404
    assert response.json()["results"] is None


def test_search_finds_a_reference_tag_in_tags_raw(lapor: httpx.Client) -> None:
    """#9 `search` matches tags_raw case-insensitively: how the bridge finds its own creates."""
    create(lapor)
    wanted = create(lapor, tags_raw="#sidumas #BRIDGE-REF-7f3a")
    rows = lapor.get("/complaints", params={"search": "bridge-ref-7F3A"}).json()["results"]["data"]
    assert [row["id"] for row in rows] == [wanted]


def test_updated_since_filters_and_orders_by_update_time(
    lapor: httpx.Client, clock: ManualClock
) -> None:
    """updated_since (naive = WIB, or zoned) keeps what was updated at or after it, oldest first."""
    first = create(lapor)
    clock.advance(minutes=10)  # 08:10 WIB
    second = create(lapor)
    clock.advance(minutes=10)
    lapor.post(f"/_sim/complaints/{first}/status", json={"status_code": 1})  # first now newest

    def ids(since: str) -> list[int]:
        page = lapor.get("/complaints", params={"updated_since": since}).json()["results"]
        return [row["id"] for row in page["data"]]

    assert ids("2026-03-02T08:10:00") == [second, first]
    assert ids("2026-03-02T01:10:01Z") == [first]
    assert ids("2026-03-02T08:20:00+07:00") == [first]
    assert lapor.get("/complaints", params={"updated_since": "kemarin"}).status_code == 422


def test_followup_is_listed_and_moves_status_to_in_progress(lapor: httpx.Client) -> None:
    """#6 stores a follow-up; #5 lists it with a d-m-Y H:i:s time; verified → Dalam Proses."""
    complaint_id = create(lapor)
    lapor.post(f"/_sim/complaints/{complaint_id}/verify")
    form = {"complaint_id": str(complaint_id), "institution_from_id": "1001", "content": "Sudah"}
    files = {"attachment[0]": ("bukti.png", b"png", "image/png")}
    added = lapor.post("/complaints/followup/add", data=form, files=files)
    assert added.status_code == 200
    page = lapor.get(f"/complaints/{complaint_id}/followups?page=1").json()["results"]
    assert page["next_page_url"] is None
    (followup,) = page["data"]
    assert followup["id"] == added.json()["results"]["id"]
    assert followup["created_at"] == "02-03-2026 08:00:00"
    assert followup["attachments"][0]["name"] == "bukti.png"
    detail = lapor.get(f"/complaints/{complaint_id}/complaint").json()["results"]["data"]
    assert detail["status_name"] == "Dalam Proses"


def test_reject_forwards_to_another_institution(lapor: httpx.Client) -> None:
    """#3 re-disposes the complaint to the institution given as `reason` and logs it."""
    complaint_id = create(lapor)
    form = {"is_request": "1", "reason": "2001", "reason_description": "x", "not_authority": "1"}
    assert lapor.post(f"/complaints/process/{complaint_id}/reject", data=form).status_code == 200
    results = lapor.get(f"/complaints/{complaint_id}/complaint").json()["results"]
    assert results["data"]["disposition_id"] == 2001
    log_data = json.loads(results["data_logs"][-1]["data"])
    assert log_data["institution_to"] == "Pemerintah Provinsi Bali"


# -- faults --------------------------------------------------------------------------------------
def test_held_create_is_committed_before_the_client_hears(lapor: httpx.Client) -> None:
    """With hold on, the complaint exists remotely while its create response is still held."""
    lapor.post("/_sim/faults", json={"hold_create_response": True})
    outcome: dict[str, Any] = {}

    def file_complaint() -> None:
        outcome["response"] = lapor.post("/complaints/complaint", json=NEW_USER)

    worker = threading.Thread(target=file_complaint)
    worker.start()
    assert lapor.get("/_sim/wait_held", params={"timeout": 30}).json() == {"held": 1}
    assert [c["id"] for c in lapor.get("/_sim/complaints").json()] == [4100001]
    assert "response" not in outcome
    assert lapor.post("/_sim/release").json() == {"released": 1}
    worker.join(30)
    assert outcome["response"].json()["complaint_id"] == 4100001


def test_wait_held_returns_zero_after_its_timeout(lapor: httpx.Client) -> None:
    """wait_held with nothing held returns {"held": 0} once its timeout passes."""
    assert lapor.get("/_sim/wait_held", params={"timeout": 0}).json() == {"held": 0}


def test_injected_failures_hit_the_next_requests_only(lapor: httpx.Client) -> None:
    """fail_next_requests makes exactly that many API calls fail with fail_status."""
    lapor.post("/_sim/faults", json={"fail_next_requests": 2, "fail_status": 503})
    assert [lapor.get("/masters/templates").status_code for _ in range(3)] == [503, 503, 200]


def test_stats_count_routes_and_creates_and_reset_clears(lapor: httpx.Client) -> None:
    """/_sim/stats counts calls per route template and creates; /_sim/reset empties everything."""
    complaint_id = create(lapor)
    lapor.get(f"/complaints/{complaint_id}/complaint")
    stats = lapor.get("/_sim/stats").json()
    assert stats["creates"] == 1
    assert stats["routes"]["GET /complaints/{complaint_id}/complaint"] == 1
    lapor.post("/_sim/reset")
    assert lapor.get("/_sim/complaints").json() == []
    assert create(lapor) == 4100001


# -- state ---------------------------------------------------------------------------------------
def test_persisted_state_survives_a_new_app(
    tmp_path: Path, serve: Serve, client: MakeClient
) -> None:
    """A new app over the same state file sees the complaint and continues the id sequence."""
    path = tmp_path / "lapor.json"
    first = start(serve, client, state=LaporState(path))
    create(first, tags_raw="#ref-1")
    second = start(serve, client, state=LaporState(path))
    rows = second.get("/complaints", params={"search": "#ref-1"}).json()["results"]["data"]
    assert [row["id"] for row in rows] == [4100001]
    assert create(second) == 4100002


def test_seeded_complaints_keep_corpus_ids_and_are_not_reseeded(
    tmp_path: Path, corpus: list[CorpusEntry]
) -> None:
    """Seeding uses the corpus tracking ids; a persisted seeded state is not seeded again."""
    path = tmp_path / "lapor.json"
    assert LaporState(path).seed_from_corpus(5, corpus) == 5
    again = LaporState(path)
    assert again.seed_from_corpus(5, corpus[5:]) == 0
    assert sorted(again.complaints) == sorted(int(e.tracking_id) for e in corpus[:5])
    assert {c["title"] for c in again.complaints.values()} == {e.title for e in corpus[:5]}


def test_seeding_is_deterministic(corpus: list[CorpusEntry]) -> None:
    """The same corpus and seed give the same complaints, dispositions and statuses."""
    one, two = LaporState(), LaporState()
    one.seed_from_corpus(20, corpus)
    two.seed_from_corpus(20, corpus)
    assert one.complaints == two.complaints
    assert len({c["disposition_id"] for c in one.complaints.values()}) > 1
