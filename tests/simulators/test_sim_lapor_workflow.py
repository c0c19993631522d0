"""The LAPOR! simulator's workflow: admin actions, follow-ups moving statuses, listing filters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bridge.testing.simulators._common import ManualClock
from bridge.testing.simulators.lapor import create_app
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer
from tests.simulators.conftest import LAPOR_HEADERS

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]
CITIZEN = {
    "title": "Sampah menumpuk",
    "content": "Sampah di pasar belum diangkut seminggu.",
    "disposition_id": 1002,
    "category_id": 5,
    "is_anonymous": True,
}


@pytest.fixture
def state(clock: ManualClock) -> LaporState:
    return LaporState(clock=clock)


@pytest.fixture
def lapor(state: LaporState, serve: Serve, client: MakeClient) -> httpx.Client:
    """An authenticated client of a fresh simulator whose clock starts at 08:00 WIB."""
    return client(serve(create_app(state)).url, headers=LAPOR_HEADERS)


def file_directly(lapor: httpx.Client, **changes: Any) -> int:
    """A citizen files on lapor.go.id itself (control route, no bridge involved)."""
    response = lapor.post("/_sim/complaints", json={**CITIZEN, **changes})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def detail(lapor: httpx.Client, complaint_id: int) -> dict[str, Any]:
    results: dict[str, Any] = lapor.get(f"/complaints/{complaint_id}/complaint").json()["results"]
    return results


def post_followup(lapor: httpx.Client, complaint_id: int, institution_id: int | None) -> None:
    form = {"complaint_id": str(complaint_id), "content": "Sudah diangkut"}
    if institution_id is not None:
        form["institution_from_id"] = str(institution_id)
    assert lapor.post("/complaints/followup/add", data=form).status_code == 200


def test_citizen_filing_directly_is_not_counted_as_a_create(lapor: httpx.Client) -> None:
    """/_sim/complaints stores a new complaint without counting it as an API create."""
    complaint_id = file_directly(lapor)
    assert detail(lapor, complaint_id)["data"]["status_code"] == 0
    assert lapor.get("/_sim/stats").json()["creates"] == 0


def test_verify_moves_a_new_complaint_to_verified_once(lapor: httpx.Client) -> None:
    """verify moves 0 → 1 with a status log; a second verify is refused with 422."""
    complaint_id = file_directly(lapor)
    answer = lapor.post(f"/_sim/complaints/{complaint_id}/verify").json()
    assert (answer["status_code"], answer["status_name"]) == (1, "Terverifikasi")
    data = detail(lapor, complaint_id)["data"]
    assert [entry["status_code"] for entry in data["status_logs"]] == [0, 1]
    assert lapor.post(f"/_sim/complaints/{complaint_id}/verify").status_code == 422


def test_dispose_sets_the_institution_verifies_and_bumps_updated_at(
    lapor: httpx.Client, clock: ManualClock
) -> None:
    """dispose sets disposition_id and name, verifies a new complaint, logs and bumps updated_at."""
    complaint_id = file_directly(lapor)
    clock.advance(minutes=15)
    lapor.post(f"/_sim/complaints/{complaint_id}/dispose", json={"institution_id": 1001})
    results = detail(lapor, complaint_id)
    data = results["data"]
    assert (data["disposition_id"], data["disposition_name"]) == (
        1001,
        "Pemerintah Kabupaten Badung",
    )
    assert (data["status_code"], data["updated_at"]) == (1, "2026-03-02T08:15:00+07:00")
    dispose_log = json.loads(results["data_logs"][1]["data"])
    assert dispose_log["institution_to"] == "Pemerintah Kabupaten Badung"


def test_dispose_keeps_a_later_status_and_refuses_unknown_institutions(
    lapor: httpx.Client,
) -> None:
    """Re-disposing an in-process complaint keeps its status; an unknown institution gets 422."""
    complaint_id = file_directly(lapor, disposition_id=1001)
    lapor.post(f"/_sim/complaints/{complaint_id}/verify")
    post_followup(lapor, complaint_id, 1001)
    lapor.post(f"/_sim/complaints/{complaint_id}/dispose", json={"institution_id": 1003})
    assert detail(lapor, complaint_id)["data"]["status_code"] == 2
    response = lapor.post(f"/_sim/complaints/{complaint_id}/dispose", json={"institution_id": 7})
    assert response.status_code == 422
    assert "institution_id" in response.json()["message"]


def test_agency_followup_moves_verified_to_in_progress_with_logs(
    lapor: httpx.Client, clock: ManualClock
) -> None:
    """A #6 follow-up from the disposed agency on a verified complaint moves it to 2, logged."""
    complaint_id = file_directly(lapor, disposition_id=1001)
    lapor.post(f"/_sim/complaints/{complaint_id}/verify")
    clock.advance(minutes=30)
    post_followup(lapor, complaint_id, 1001)
    results = detail(lapor, complaint_id)
    data = results["data"]
    assert (data["status_code"], data["status_name"]) == (2, "Dalam Proses")
    assert data["updated_at"] == "2026-03-02T08:30:00+07:00"
    assert data["status_logs"][-1]["status_code"] == 2
    assert json.loads(results["data_logs"][-1]["data"])["status_new"] == "Dalam Proses"


@pytest.mark.parametrize(
    ("verified", "institution_id"),
    [(False, 1001), (True, 1004), (True, None)],
    ids=["not-yet-verified", "other-agency", "no-agency"],
)
def test_other_followups_leave_the_status_but_bump_updated_at(
    lapor: httpx.Client, clock: ManualClock, verified: bool, institution_id: int | None
) -> None:
    """Only the disposed agency on a verified complaint moves it; any follow-up bumps updated_at."""
    complaint_id = file_directly(lapor, disposition_id=1001)
    if verified:
        lapor.post(f"/_sim/complaints/{complaint_id}/verify")
    clock.advance(minutes=45)
    post_followup(lapor, complaint_id, institution_id)
    data = detail(lapor, complaint_id)["data"]
    assert data["status_code"] == (1 if verified else 0)
    assert data["updated_at"] == "2026-03-02T08:45:00+07:00"


def test_followup_written_in_lapor_is_listed_with_its_author(
    lapor: httpx.Client, clock: ManualClock
) -> None:
    """/_sim/complaints/{id}/followups adds a follow-up #5 lists, with author and agency."""
    complaint_id = file_directly(lapor, disposition_id=1001)
    lapor.post(f"/_sim/complaints/{complaint_id}/verify")
    clock.advance(minutes=1)
    body = {"content": "Mohon dilengkapi fotonya", "institution_from_id": 1001, "author": "Admin"}
    added = lapor.post(f"/_sim/complaints/{complaint_id}/followups", json=body).json()
    (listed,) = lapor.get(f"/complaints/{complaint_id}/followups").json()["results"]["data"]
    assert listed["id"] == added["id"]
    assert (listed["content"], listed["author"]) == ("Mohon dilengkapi fotonya", "Admin")
    assert listed["institution_from_name"] == "Pemerintah Kabupaten Badung"
    assert listed["created_at"] == "02-03-2026 08:01:00"
    assert detail(lapor, complaint_id)["data"]["status_code"] == 2


def test_admin_followup_without_content_is_refused(lapor: httpx.Client) -> None:
    """A control-route follow-up with no content is refused with 422."""
    complaint_id = file_directly(lapor)
    response = lapor.post(f"/_sim/complaints/{complaint_id}/followups", json={"author": "x"})
    assert response.status_code == 422


def test_close_sets_status_six(lapor: httpx.Client) -> None:
    """close moves the complaint to 6, "Ditutup oleh Admin/Sistem"."""
    complaint_id = file_directly(lapor)
    answer = lapor.post(f"/_sim/complaints/{complaint_id}/close").json()
    assert (answer["status_code"], answer["status_name"]) == (6, "Ditutup oleh Admin/Sistem")


@pytest.mark.parametrize("action", ["verify", "close", "dispose", "followups"])
def test_admin_actions_on_an_unknown_complaint_are_404(lapor: httpx.Client, action: str) -> None:
    """Every admin control route answers 404 for a tracking id that does not exist."""
    body = {"institution_id": 1001, "content": "x"}
    assert lapor.post(f"/_sim/complaints/1234567/{action}", json=body).status_code == 404


def test_listing_filters_disposition_and_updated_since_after_changes(
    lapor: httpx.Client, clock: ManualClock
) -> None:
    """#9 lists a complaint for its new agency once disposed, and after a follow-up again."""
    moved = file_directly(lapor, disposition_id=1002)
    file_directly(lapor, disposition_id=1003)
    clock.advance(hours=1)  # 09:00 WIB
    lapor.post(f"/_sim/complaints/{moved}/dispose", json={"institution_id": 1001})

    def listed(disposition_id: int, since: str) -> list[int]:
        params: dict[str, str | int] = {"disposition_id": disposition_id, "updated_since": since}
        return [
            row["id"] for row in lapor.get("/complaints", params=params).json()["results"]["data"]
        ]

    assert listed(1001, "2026-03-02T08:30:00+07:00") == [moved]
    assert listed(1002, "2026-03-02T00:00:00+07:00") == []
    clock.advance(hours=1)  # 10:00 WIB
    assert listed(1001, "2026-03-02T09:30:00+07:00") == []
    post_followup(lapor, moved, 1001)
    assert listed(1001, "2026-03-02T09:30:00+07:00") == [moved]
    (row,) = lapor.get("/complaints", params={"disposition_id": 1001}).json()["results"]["data"]
    assert (row["status_name"], row["updated_at"]) == ("Dalam Proses", "2026-03-02T10:00:00+07:00")
