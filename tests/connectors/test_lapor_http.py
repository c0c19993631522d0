"""The LAPOR! connector's HTTP edge cases, against respx (no server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from bridge.connectors.lapor import LaporConnector, LaporSettings, add_tag, has_tag
from bridge.errors import (
    AuthError,
    ProtocolError,
    ReadRefused,
    RemoteRejected,
    RetryableError,
    RouteError,
)
from bridge.http import RetrySettings
from bridge.model import Attachment

BASE = "https://api-splp.layanan.go.id/lapor/3.0.0"
NO_WAIT = RetrySettings(attempts=3, wait_initial=0, wait_max=0)
WIB = timezone(timedelta(hours=7))


def make(**options: Any) -> LaporConnector:
    settings = LaporSettings(
        type="lapor", base_url=BASE, api_key="k3y", api_guid="g-u-i-d", page_size=2, **options
    )
    return LaporConnector("lapor", settings, retry=NO_WAIT)


@pytest.fixture
def lapor() -> Iterator[LaporConnector]:
    connector = make()
    with respx.mock:
        yield connector
    connector.close()


def page(data: list[dict[str, Any]], next_url: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"results": {"data": data, "next_page_url": next_url}})


@pytest.mark.parametrize("header", ["auth", "Authorization"])
def test_every_request_carries_bearer_and_token_headers(header: str) -> None:
    """The bearer token goes in the configured header, the GUID in `token`."""
    with respx.mock, make(auth_header=header) as connector:
        route = respx.get(f"{BASE}/complaints").mock(return_value=page([]))
        list(connector.pull())
    sent = route.calls.last.request.headers
    assert sent[header] == "Bearer k3y"
    assert sent["token"] == "g-u-i-d"


def test_pull_sends_filters_and_follows_pages(lapor: LaporConnector) -> None:
    """pull sends disposition, updated_since with offset and page size, and reads every page."""
    route = respx.get(f"{BASE}/complaints").mock(
        side_effect=[page([{"id": 1}, {"id": 2}], "https://elsewhere/?page=2"), page([{"id": 3}])]
    )
    with make(disposition_id="1001") as connector:
        since = datetime(2024, 5, 1, 8, 0, tzinfo=WIB)
        pages = list(connector.pull(since))
    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    first, second = (call.request.url.params for call in route.calls)
    assert first["disposition_id"] == "1001"
    assert first["updated_since"] == "2024-05-01T08:00:00+07:00"
    assert (first["page"], second["page"], first["page_size"]) == ("1", "2", "2")
    assert all(call.request.url.host == "api-splp.layanan.go.id" for call in route.calls)


def test_pull_without_envelope_is_a_protocol_error(lapor: LaporConnector) -> None:
    """An answer without results.data is a ProtocolError, not an empty page."""
    respx.get(f"{BASE}/complaints").respond(json={"data": []})
    with pytest.raises(ProtocolError, match="results"):
        list(lapor.pull())


def test_a_gateway_ignoring_the_page_parameter_is_a_protocol_error(lapor: LaporConnector) -> None:
    """The same page again with a next_page_url stops the listing instead of looping."""
    respx.get(f"{BASE}/complaints").mock(return_value=page([{"id": 1}], "next"))
    with pytest.raises(ProtocolError, match="repeats"):
        list(lapor.pull())


def test_settings_refuse_unknown_keys_and_hide_secrets() -> None:
    """A misspelt key is an error, and the secrets never appear in the settings' repr."""
    with pytest.raises(ValueError, match="api_keyy"):
        LaporSettings(type="lapor", base_url=BASE, api_key="k3y", api_guid="g", api_keyy="x")  # type: ignore[call-arg]
    assert "k3y" not in repr(make().settings)


def test_pull_retries_5xx(lapor: LaporConnector) -> None:
    """A GET that meets a 502 is retried."""
    respx.get(f"{BASE}/complaints").mock(side_effect=[httpx.Response(502), page([{"id": 1}])])
    assert list(lapor.pull()) == [[{"id": 1}]]


def test_401_is_an_auth_error_without_secrets(lapor: LaporConnector) -> None:
    """A 401 raises AuthError naming the secrets to check, never their values."""
    respx.get(f"{BASE}/complaints").respond(401, json={"message": "Unauthorized"})
    with pytest.raises(AuthError) as caught:
        list(lapor.pull())
    message = str(caught.value)
    assert "api_key" in message
    assert "api_guid" in message
    assert "k3y" not in message
    assert "g-u-i-d" not in message


def test_get_returns_detail_or_none(lapor: LaporConnector) -> None:
    """get reads results.data of #4 with data_logs copied in, and a 404 means None."""
    log = {"id": 1, "content": "x", "data": "{}"}
    respx.get(f"{BASE}/complaints/4100001/complaint").respond(
        json={"results": {"data": {"id": 4100001, "status_code": 1}, "data_logs": [log]}}
    )
    respx.get(f"{BASE}/complaints/9/complaint").respond(404, json={"message": "not found"})
    assert lapor.get("4100001") == {"id": 4100001, "status_code": 1, "data_logs": [log]}
    assert lapor.get("9") is None


@pytest.mark.parametrize(
    "answer",
    [{"complaint_id": 4100007}, {"results": {"complaint": {"id": 4100007}}, "message": "ok"}],
)
def test_create_accepts_both_response_shapes(lapor: LaporConnector, answer: dict[str, Any]) -> None:
    """The new id is read from complaint_id or results.complaint.id, as a string."""
    respx.post(f"{BASE}/complaints/complaint").respond(json=answer)
    assert lapor.create({"title": "t"}, [], "lbref") == "4100007"


def test_create_without_an_id_is_a_protocol_error(lapor: LaporConnector) -> None:
    """A create answer with neither id shape is a ProtocolError."""
    respx.post(f"{BASE}/complaints/complaint").respond(json={"message": "ok"})
    with pytest.raises(ProtocolError, match="complaint_id"):
        lapor.create({"title": "t"}, [], "lbref")


def test_create_appends_the_ref_hashtag_keeping_tags(lapor: LaporConnector) -> None:
    """The ref is appended to tags_raw as #ref; existing tags stay."""
    route = respx.post(f"{BASE}/complaints/complaint").respond(json={"complaint_id": 1})
    lapor.create({"title": "t", "tags_raw": "#jalan #badung"}, [], "lbref")
    sent = json.loads(route.calls.last.request.content)
    assert sent["tags_raw"] == "#jalan #badung #lbref"
    assert "attachments" not in sent


def test_attachments_are_uploaded_first_and_sent_as_a_json_string(lapor: LaporConnector) -> None:
    """Files go to #1 first; their doc ids reach the create as the string "[11,12]"."""
    upload = respx.post(f"{BASE}/complaints/complaint/file").respond(
        json={"results": {"docs": [{"id": 11}, {"id": 12}]}}
    )
    create = respx.post(f"{BASE}/complaints/complaint").respond(json={"complaint_id": 1})
    fetched: list[str] = []

    def fetch(attachment: Attachment) -> bytes:
        fetched.append(attachment.filename)
        return b"from-source"

    lapor.set_attachment_fetcher(fetch)
    files = [
        Attachment(filename="a.jpg", content=b"A", content_type="image/jpeg"),
        Attachment(filename="b.pdf", url="https://sidumas.example/files/b.pdf"),
    ]
    lapor.create({"title": "t"}, files, "lbref")
    assert fetched == ["b.pdf"]
    assert upload.calls.last.request.headers["Content-Type"].startswith("multipart/form-data")
    body = upload.calls.last.request.content
    assert body.count(b'name="attachments[]"') == 2
    assert b"from-source" in body
    assert json.loads(create.calls.last.request.content)["attachments"] == "[11,12]"
    order = [call.request.url.path for call in respx.calls]
    assert order == ["/lapor/3.0.0/complaints/complaint/file", "/lapor/3.0.0/complaints/complaint"]


def test_create_is_never_retried(lapor: LaporConnector) -> None:
    """A create that meets a 503 is tried once and the error raised to the engine."""
    route = respx.post(f"{BASE}/complaints/complaint").respond(503)
    with pytest.raises(RetryableError):
        lapor.create({"title": "t"}, [], "lbref")
    assert route.call_count == 1


def test_create_rejection_carries_the_server_message(lapor: LaporConnector) -> None:
    """A 422 becomes RemoteRejected with the server's message and no request body."""
    respx.post(f"{BASE}/complaints/complaint").respond(
        422, json={"results": None, "message": "The title field is required."}
    )
    with pytest.raises(RemoteRejected) as caught:
        lapor.create({"content": "rahasia pelapor 0812"}, [], "lbref")
    assert caught.value.status_code == 422
    assert "The title field is required." in caught.value.reason
    assert "0812" not in caught.value.reason


def test_find_by_ref_searches_all_pages_for_the_whole_tag(lapor: LaporConnector) -> None:
    """find_by_ref searches by ref over every page and ignores longer refs sharing the prefix."""
    route = respx.get(f"{BASE}/complaints").mock(
        side_effect=[
            page([{"id": 1, "tags_raw": "#lbref9"}, {"id": 2, "tags_raw": None}], "next"),
            page([{"id": 3, "tags_raw": "#jalan #lbref"}]),
        ]
    )
    assert lapor.find_by_ref("lbref") == "3"
    assert route.calls[0].request.url.params["search"] == "lbref"


def test_find_by_ref_returns_none_when_absent(lapor: LaporConnector) -> None:
    """No record with the tag → None."""
    respx.get(f"{BASE}/complaints").mock(return_value=page([{"id": 1, "tags_raw": "#lbrefx"}]))
    assert lapor.find_by_ref("lbref") is None


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_refused_listing_search_or_detail_stops_the_route(
    lapor: LaporConnector, status: int
) -> None:
    """A 4xx on the listing, the search or a detail is ReadRefused naming the path and base_url."""
    respx.get(f"{BASE}/complaints").respond(status, json={"message": "no such path"})
    respx.get(f"{BASE}/complaints/7/complaint").respond(400, json={"message": "bad id"})
    reads = [lambda: list(lapor.pull()), lambda: lapor.find_by_ref("lbref"), lambda: lapor.get("7")]
    for read in reads:
        with pytest.raises(ReadRefused) as caught:
            read()
        assert isinstance(caught.value, RouteError)
        assert "/lapor/3.0.0/complaints" in str(caught.value)
        assert "check base_url" in str(caught.value)


def test_add_followup_posts_multipart_once(lapor: LaporConnector) -> None:
    """add_followup posts #6 as multipart with attachment[i] files, without retrying."""
    route = respx.post(f"{BASE}/complaints/followup/add").respond(
        json={"results": {"id": 5}, "message": "ok"}
    )
    answer = lapor.add_followup(
        "4100001",
        {"content": "Sudah diperbaiki", "is_secret": 0},
        [Attachment(filename="x.jpg", content=b"X")],
    )
    assert answer == "5"
    body = route.calls.last.request.content
    assert b'name="complaint_id"' in body
    assert b'name="attachment[0]"' in body


@respx.mock
def test_download_keeps_credentials_on_the_lapor_host() -> None:
    """download sends our headers to the LAPOR! host only, none to attachment_hosts."""
    lapor = make(attachment_hosts=("cdn.example.com",))
    ours = respx.get(f"{BASE}/files/1").respond(content=b"1")
    theirs = respx.get("https://cdn.example.com/2").respond(content=b"2")
    assert lapor.download(Attachment(filename="1", url=f"{BASE}/files/1")) == b"1"
    assert lapor.download(Attachment(filename="2", url="https://cdn.example.com/2")) == b"2"
    assert ours.calls.last.request.headers["auth"] == "Bearer k3y"
    assert "auth" not in theirs.calls.last.request.headers
    assert "token" not in theirs.calls.last.request.headers


@pytest.mark.parametrize(
    ("tags", "found"),
    [("#lbref", True), ("#LBREF", True), ("#lbref9 #x", False), ("a,#lbref", True), (None, False)],
)
def test_has_tag_matches_whole_tags(tags: str | None, found: bool) -> None:
    """Tags match whole, case-insensitively, whatever separator."""
    assert has_tag(tags, "lbref") is found


def test_add_tag_is_idempotent() -> None:
    """Adding a tag that is there already leaves tags_raw alone."""
    assert add_tag("#a #lbref", "lbref") == "#a #lbref"
    assert add_tag(None, "lbref") == "#lbref"
