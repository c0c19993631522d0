"""The LAPOR! connector's follow-ups (#5, #6) and forwarding (#3), against respx (no server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.errors import ProtocolError, RemoteRejected, RetryableError
from bridge.http import RetrySettings
from bridge.model import Attachment

BASE = "https://api-splp.layanan.go.id/lapor/3.0.0"
NO_WAIT = RetrySettings(attempts=3, wait_initial=0, wait_max=0)
FOLLOWUPS = f"{BASE}/complaints/4100001/followups"
ADD = f"{BASE}/complaints/followup/add"


@pytest.fixture
def lapor() -> Iterator[LaporConnector]:
    settings = LaporSettings(type="lapor", base_url=BASE, api_key="k3y", api_guid="g-u-i-d")
    connector = LaporConnector("lapor", settings, retry=NO_WAIT)
    with respx.mock:
        yield connector
    connector.close()


def page(data: list[dict[str, Any]], next_url: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"results": {"data": data, "next_page_url": next_url}})


def multipart_fields(request: httpx.Request) -> dict[str, str]:
    """The plain (non-file) fields of a multipart body, by name."""
    boundary = request.headers["Content-Type"].split("boundary=")[1].encode()
    fields = {}
    for part in request.content.split(b"--" + boundary):
        head, _, value = part.partition(b"\r\n\r\n")
        if b"filename=" in head or b'name="' not in head:
            continue
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        fields[name] = value.rstrip(b"\r\n").decode()
    return fields


def test_capabilities_follow_the_lapor_workflow(lapor: LaporConnector) -> None:
    """LAPOR! has follow-ups and forwarding, but an agency cannot write a status."""
    assert lapor.supports_followups is True
    assert lapor.can_forward is True
    assert lapor.can_write_status is False


def test_followups_reads_every_page_counting_pages_itself(lapor: LaporConnector) -> None:
    """followups reads page 1, 2… of #5 on the LAPOR! host until next_page_url is null."""
    route = respx.get(FOLLOWUPS).mock(
        side_effect=[page([{"id": 1}, {"id": 2}], "https://elsewhere/?page=2"), page([{"id": 3}])]
    )
    assert [f["id"] for f in lapor.followups("4100001")] == [1, 2, 3]
    assert [call.request.url.params["page"] for call in route.calls] == ["1", "2"]
    assert all(call.request.url.host == "api-splp.layanan.go.id" for call in route.calls)


def test_followups_of_an_unknown_complaint_raise(lapor: LaporConnector) -> None:
    """A 404 on #5 raises RemoteRejected instead of answering an empty list."""
    respx.get(FOLLOWUPS).respond(404, json={"results": None, "message": "not found"})
    with pytest.raises(RemoteRejected) as caught:
        lapor.followups("4100001")
    assert caught.value.status_code == 404


def test_followups_without_an_envelope_is_a_protocol_error(lapor: LaporConnector) -> None:
    """An answer without results.data is a ProtocolError, not "no follow-ups"."""
    respx.get(FOLLOWUPS).respond(json={"data": []})
    with pytest.raises(ProtocolError):
        lapor.followups("4100001")


def test_followups_read_is_retried(lapor: LaporConnector) -> None:
    """A 503 on #5 is retried (reading twice is harmless); the next answer is used."""
    respx.get(FOLLOWUPS).mock(side_effect=[httpx.Response(503), page([{"id": 1}])])
    assert lapor.followups("4100001") == [{"id": 1}]


def test_add_followup_sends_the_form_fields_and_numbered_attachments(
    lapor: LaporConnector,
) -> None:
    """#6 is multipart: complaint_id from the record id, the given fields, attachment[0], [1]."""
    route = respx.post(ADD).respond(json={"results": {"id": 77, "complaint_id": 4100001}})
    followup = {
        "complaint_id": "ignored",
        "institution_from_id": 1001,
        "institution_to_id": None,
        "content": "Sudah diperbaiki",
        "is_secret": False,
        "template_code": "TL-03",
        "rating": 5,
    }
    files = [
        Attachment(filename="a.jpg", content=b"AAA", content_type="image/jpeg"),
        Attachment(filename="b.pdf", url="https://cdn.example/b.pdf"),
    ]
    lapor.set_attachment_fetcher(lambda a: b"fetched-" + a.filename.encode())
    assert lapor.add_followup("4100001", followup, files) == "77"
    request = route.calls.last.request
    assert multipart_fields(request) == {
        "complaint_id": "4100001",
        "institution_from_id": "1001",
        "content": "Sudah diperbaiki",
        "is_secret": "0",
        "template_code": "TL-03",
        "rating": "5",
    }
    assert b'name="attachment[0]"; filename="a.jpg"' in request.content
    assert b'name="attachment[1]"; filename="b.pdf"' in request.content
    assert b"fetched-b.pdf" in request.content


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"results": {"id": 5}}, "5"),
        ({"results": {"followup": {"id": 6}}}, "6"),
        ({"results": {"data": {"id": 7}}}, "7"),
        ({"followup_id": 8, "message": "ok"}, "8"),
        ({"results": None, "message": "ok"}, None),
        ({"message": "Tindak lanjut tersimpan"}, None),
    ],
)
def test_add_followup_reads_the_new_id_from_plausible_shapes(
    lapor: LaporConnector, answer: dict[str, Any], expected: str | None
) -> None:
    """The new follow-up's id is read from the shapes seen or plausible, else None."""
    respx.post(ADD).respond(json=answer)
    assert lapor.add_followup("4100001", {"content": "x"}, []) == expected


def test_add_followup_is_not_retried(lapor: LaporConnector) -> None:
    """A 503 on #6 is raised at once: the follow-up may have been posted."""
    route = respx.post(ADD).respond(503)
    with pytest.raises(RetryableError):
        lapor.add_followup("4100001", {"content": "x"}, [])
    assert route.call_count == 1


def test_forward_posts_bukan_wewenang_once(lapor: LaporConnector) -> None:
    """forward posts #3 as JSON, as the real clients do: is_request, reason, text, not_authority."""
    route = respx.post(f"{BASE}/complaints/process/4100001/reject").respond(
        json={"results": {"id": 4100001}, "message": "ok"}
    )
    lapor.forward("4100001", "2001", "Kewenangan Pemerintah Provinsi Bali")
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "is_request": 1,
        "reason": 2001,
        "reason_description": "Kewenangan Pemerintah Provinsi Bali",
        "not_authority": 1,
    }
    assert route.calls.last.request.headers["auth"] == "Bearer k3y"


def test_forward_refused_raises_remote_rejected(lapor: LaporConnector) -> None:
    """A refused forward raises RemoteRejected carrying the server's message."""
    path = f"{BASE}/complaints/process/4100001/reject"
    respx.post(path).respond(422, json={"message": "The reason must be a known institution"})
    with pytest.raises(RemoteRejected, match="known institution"):
        lapor.forward("4100001", "9", "x")


def test_forward_is_not_retried(lapor: LaporConnector) -> None:
    """A 503 on #3 is raised at once: the complaint may already have moved."""
    route = respx.post(f"{BASE}/complaints/process/4100001/reject").respond(503)
    with pytest.raises(RetryableError):
        lapor.forward("4100001", "2001", "x")
    assert route.call_count == 1


def test_record_ids_cannot_escape_their_path_segment(lapor: LaporConnector) -> None:
    """An id holding a slash is quoted, so it cannot address another endpoint."""
    route = respx.get(url__regex=r".*/complaints/.*followups").mock(return_value=page([]))
    lapor.followups("1/../2")
    assert "/complaints/1%2F..%2F2/followups" in str(route.calls.last.request.url)
