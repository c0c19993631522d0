"""The LAPOR! connector and simulator against what the real v3 clients send and read.

The request sequences replayed here are those of the two public production clients of the
v3 API, written by us from their code. The Laravel "LaporForwardingService"
(muhilman2012/admin_lmw_v2, app/Services/LaporForwardingService.php): upload
``attachments[]`` in one batch (#1) and read ``results.docs``; create at its own path
(``complaints/complaint-lmw``) with JSON booleans, an ISO-8601 ``date_of_incident`` and
the attachment list followed by a "."; forward (#3) with a JSON body. The LMW admin app
(muhilman2012/whatsapp-admin, its sequence in ``fixtures/lapor_whatsapp_admin.json``):
the institution master, one upload per file, create, forward, follow-ups page by page.
The simulator answers as production does (``results.images`` apart, institutions nested
in follow-ups). Each test ends with every record exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.errors import ReadRefused
from bridge.http import RetrySettings
from bridge.model import Attachment
from bridge.testing.simulators.lapor import create_app
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import RunningServer, serve_in_thread

pytestmark = pytest.mark.e2e
HEADERS = {"Authorization": "Bearer k3y", "token": "g-u-i-d"}
CREATE_PATH = "complaints/complaint-lmw"
# The create body of the Laravel client, its values ours: JSON booleans, an ISO date,
# nulls for what it does not use.
REAL_CREATE: dict[str, Any] = {
    "title": "Lampu jalan mati",
    "content": "Nomor Tiket pada Aplikasi: T-0001\n Detail Laporan: lampu mati sejak Senin",
    "channel": 13,
    "is_new_user_slider": False,
    "user_id": 5218120,
    "is_inbox": True,
    "is_disposisi_slider": True,
    "classification_id": 1,
    "disposition_id": 1003,
    "category_id": 12,
    "priority_program_id": None,
    "location_id": 34,
    "community_id": None,
    "date_of_incident": "2026-02-27T08:30:00+08:00",
    "copy_externals": None,
    "info_disposition": None,
    "info_attachments": None,
    "tags_raw": "#lampujalan",
    "is_approval": False,
    "is_anonymous": False,
    "is_secret": False,
    "is_priority": True,
}


@pytest.fixture
def real_sim() -> Iterator[tuple[RunningServer, LaporState]]:
    state = LaporState()
    app = create_app(
        state,
        api_key="k3y",
        api_guid="g-u-i-d",
        auth_header="Authorization",
        create_path="/" + CREATE_PATH,
        real_shapes=True,
    )
    with serve_in_thread(app) as server:
        yield server, state


def connector_for(url: str, **options: Any) -> LaporConnector:
    settings = LaporSettings.model_validate(
        {
            "type": "lapor",
            "base_url": url,
            "auth_header": "Authorization",
            "api_key": "k3y",
            "api_guid": "g-u-i-d",
            "create_path": CREATE_PATH,
            **options,
        }
    )
    return LaporConnector("lapor", settings, retry=RetrySettings(attempts=1, wait_initial=0))


def test_the_laravel_clients_request_sequence_is_accepted(
    real_sim: tuple[RunningServer, LaporState],
) -> None:
    """Upload (docs + images), create at its path with booleans and ISO date, forward as JSON."""
    server, state = real_sim
    with httpx.Client(base_url=server.url, headers=HEADERS) as client:
        files = [
            ("attachments[]", ("foto.jpg", b"\xff\xd8jpeg", "image/jpeg")),
            ("attachments[]", ("surat.pdf", b"%PDF-1.4", "application/pdf")),
        ]
        uploaded = client.post("/complaints/complaint/file", files=files).json()["results"]
        assert [d["name"] for d in uploaded["images"]] == ["foto.jpg"]
        assert [d["name"] for d in uploaded["docs"]] == ["surat.pdf"]
        ids = [d["id"] for d in uploaded["docs"] + uploaded["images"]]
        # PHP's json_encode (no spaces), and the trailing "." this client adds on purpose.
        body = {**REAL_CREATE, "attachments": json.dumps(ids, separators=(",", ":")) + "."}
        created = client.post("/" + CREATE_PATH, json=body)
        assert created.status_code == 200, created.text
        complaint_id = created.json()["results"]["id"] if "results" in created.json() else None
        [stored] = state.complaints.values()
        assert sorted(stored["attachments"]) == sorted(ids)
        reject = {"is_request": 1, "reason": "2001", "reason_description": "x", "not_authority": 1}
        answer = client.post(f"/complaints/process/{stored['id']}/reject", json=reject)
        assert answer.status_code == 200, answer.text
    assert complaint_id in (None, stored["id"])
    assert len(state.complaints) == 1


def test_a_photo_and_a_document_both_reach_the_complaint_once(
    real_sim: tuple[RunningServer, LaporState],
) -> None:
    """The connector keeps the ids of results.images as well as results.docs, each once."""
    server, state = real_sim
    lapor = connector_for(server.url)
    files = [
        Attachment(filename="foto.jpg", content=b"\xff\xd8", content_type="image/jpeg"),
        Attachment(filename="surat.pdf", content=b"%PDF", content_type="application/pdf"),
    ]
    record = {**REAL_CREATE, "user_id": None, "is_new_user_slider": True, "nameUser": "Made"}
    try:
        new_id = lapor.create(record, files, "lb00000000000000aa")
    finally:
        lapor.close()
    stored = state.complaints[int(new_id)]
    assert len(stored["attachments"]) == 2 == len(set(stored["attachments"]))
    assert len(state.complaints) == 1


def test_follow_ups_carry_the_configured_fields_and_nested_institutions_are_read(
    real_sim: tuple[RunningServer, LaporState],
) -> None:
    """followup_fields fill institution_to_id, template_code, rating; a nested id reads flat."""
    server, state = real_sim
    fields = {"institution_to_id": 1003, "template_code": "TL01", "rating": 0}
    lapor = connector_for(server.url, followup_fields=fields)
    try:
        record = {**REAL_CREATE, "user_id": None, "is_new_user_slider": True, "nameUser": "Made"}
        complaint = lapor.create(record, [], "lb00000000000000ab")
        lapor.add_followup(complaint, {"institution_from_id": 1003, "content": "Dicek"}, [])
        [read] = lapor.followups(complaint)
    finally:
        lapor.close()
    [stored] = state.complaints[int(complaint)]["followups"]
    assert (stored["institution_to_id"], stored["template_code"], stored["rating"]) == (
        1003,
        "TL01",
        0,
    )
    assert read["institution_from_id"] == 1003
    assert read["institution_from_name"]


def test_a_missing_listing_is_a_clear_route_error() -> None:
    """An integration without the listing (#9): pulling stops the route naming what to ask."""
    app = create_app(
        LaporState(), api_key="k3y", api_guid="g-u-i-d", auth_header="Authorization", listing=False
    )
    with serve_in_thread(app) as server:
        lapor = connector_for(server.url)
        try:
            with pytest.raises(ReadRefused, match="not given the complaint listing"):
                list(lapor.pull())
        finally:
            lapor.close()


WHATSAPP_ADMIN: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "lapor_whatsapp_admin.json").read_text()
)


def test_the_lmw_admin_apps_request_sequence_is_accepted_and_filed_once(
    real_sim: tuple[RunningServer, LaporState],
) -> None:
    """whatsapp-admin: institutions, one upload per file, create, forward, follow-up pages."""
    server, state = real_sim
    steps = {step["name"]: step for step in WHATSAPP_ADMIN["steps"]}
    json_headers = {**HEADERS, "Content-Type": "application/json", "Accept": "application/json"}
    with httpx.Client(base_url=server.url) as client:
        master = steps["institutions"]
        listed = client.get(master["path"], params=master["query"], headers=json_headers)
        assert listed.status_code == 200 and listed.json()["results"]["data"], listed.text
        # One request per file; the client keeps results.docs[0].id of each answer.
        upload, kept = steps["upload"], list[int]()
        for name, kind in upload["files"]:
            files = [("attachments[]", (name, b"%PDF-1.4 or JPEG bytes", kind))]
            answer = client.post(upload["path"], files=files, headers=HEADERS)
            assert answer.status_code == 200, answer.text
            docs = answer.json()["results"]["docs"]
            if docs:  # a photo comes back under results.images: this client gets nothing
                kept.append(docs[0]["id"])
        create = steps["create"]
        body = {**create["json"], "attachments": "[" + ",".join(str(i) for i in kept) + "]"}
        created = client.post(create["path"], json=body, headers=json_headers)
        assert created.status_code == 200, created.text
        answer = created.json()
        complaint_id = answer.get("complaint_id") or answer["results"]["complaint"]["id"]
        forward = steps["forward"]
        path = forward["path"].format(complaint_id=complaint_id)
        assert client.post(path, json=forward["json"], headers=json_headers).status_code == 200
        client.post(f"/_sim/complaints/{complaint_id}/followups", json={"content": "Ditangani"})
        pages, page, more = [], 1, True
        while more:
            path = steps["followups"]["path"].format(complaint_id=complaint_id)
            results = client.get(path, params={"page": page}, headers=json_headers).json()
            pages.append(results["results"]["data"])
            more, page = results["results"]["next_page_url"] is not None, page + 1
    [stored] = state.complaints.values()
    assert stored["id"] == complaint_id
    # The photo came back under results.images, which this client never reads: only the
    # document reaches the complaint (the connector reads both; see the test above).
    assert stored["attachments"] == kept and len(kept) == 1
    assert len(state.docs) == 2
    assert stored["is_anonymous"] == 1 and stored["date_of_incident"] == body["date_of_incident"]
    assert [f["content"] for page_rows in pages for f in page_rows].count("Ditangani") == 1


def test_the_laravel_clients_follow_up_and_reads_are_accepted(
    real_sim: tuple[RunningServer, LaporState],
) -> None:
    """LaporForwardingService's follow-up (multipart, every field a string), then its reads."""
    server, state = real_sim
    complaint_id = state.create_complaint({**REAL_CREATE, "attachments": ""})
    # sendFollowUpToLapor: (string) of each value, so null is "" and 0 is "0"; Laravel's
    # asMultipart() adds its CSRF _token; the answer's text is the officer's reply.
    form = {
        "user_id": "52676",
        "institution_from_id": "1003",
        "institution_to_id": "1003",
        "complaint_id": str(complaint_id),
        "info_disposition": "",
        "template_code": "reply_lmw",
        "rating": "0",
        "is_secret": "0",
        "content": "Sudah kami tindak lanjuti",
        "_token": "csrf-token-of-the-app",
    }
    multipart = [(key, (None, value.encode())) for key, value in form.items()]
    with httpx.Client(base_url=server.url, headers=HEADERS) as client:
        added = client.post("/complaints/followup/add", files=multipart)
        assert added.status_code == 200, added.text
        detail = client.get(f"/complaints/{complaint_id}/complaint").json()["results"]
        followups = client.get(f"/complaints/{complaint_id}/followups").json()["results"]
        templates = client.get("/masters/templates", params={"page_size": 1000}).json()
    assert detail["data"]["id"] == complaint_id and "data_logs" in detail
    [followup] = followups["data"]
    assert followup["content"] == form["content"] and followup["template_code"] == "reply_lmw"
    assert followup["institution_from_id"]["id"] == 1003  # nested, as production shows it
    assert templates["results"]["data"]
    assert len(state.complaints[complaint_id]["followups"]) == 1
