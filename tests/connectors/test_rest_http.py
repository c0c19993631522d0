"""The generic REST connector's HTTP edge cases, against respx (no server)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from bridge.connectors.rest import RestConnector, RestSettings, dig, has_token
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    ReadRefused,
    RemoteRejected,
    RouteError,
)
from bridge.http import RetrySettings
from bridge.model import Attachment

BASE = "https://door.example.go.id/api/"
NO_WAIT = RetrySettings(attempts=3, wait_initial=0, wait_max=0)


def make(**options: Any) -> RestConnector:
    settings = RestSettings.model_validate(
        {"type": "rest", "base_url": BASE, "list_path": "items", **options}
    )
    return RestConnector("door", settings, retry=NO_WAIT)


def login_options(**extra: Any) -> dict[str, Any]:
    return {
        "pagination": "none",
        "auth": "login",
        "username": "petugas@example.go.id",
        "password": "pa55word",
        "token_path": "data.token",
        **extra,
    }


@pytest.fixture(autouse=True)
def _mock() -> Iterator[None]:
    with respx.mock:
        yield


def items(data: list[dict[str, Any]], **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data, **extra})


def test_login_then_bearer_token_on_data_calls() -> None:
    """auth=login posts the credentials once and sends the token as a bearer."""
    login = respx.post(BASE + "login").respond(json={"data": {"token": "t1"}})
    listing = respx.get(BASE + "items").mock(return_value=items([{"id": 1}]))
    with make(**login_options()) as door:
        list(door.pull())
        list(door.pull())
    assert login.call_count == 1
    assert json.loads(login.calls.last.request.content) == {
        "email": "petugas@example.go.id",
        "password": "pa55word",
    }
    assert listing.calls.last.request.headers["Authorization"] == "Bearer t1"


def test_login_again_once_on_401() -> None:
    """A 401 on a data call logs in again once and repeats the call with the new token."""
    respx.post(BASE + "login").mock(
        side_effect=[
            httpx.Response(200, json={"data": {"token": "old"}}),
            httpx.Response(200, json={"data": {"token": "new"}}),
        ]
    )
    listing = respx.get(BASE + "items").mock(
        side_effect=[httpx.Response(401, json={"message": "Unauthenticated."}), items([{"id": 1}])]
    )
    with make(**login_options()) as door:
        assert list(door.pull()) == [[{"id": 1}]]
    assert [c.request.headers["Authorization"] for c in listing.calls] == [
        "Bearer old",
        "Bearer new",
    ]


def test_second_401_after_relogin_is_an_auth_error_without_secrets() -> None:
    """When the fresh token is refused too, AuthError names the secrets but not their values."""
    login = respx.post(BASE + "login").respond(json={"data": {"token": "zz-session-zz"}})
    respx.get(BASE + "items").respond(401, json={"message": "Unauthenticated."})
    with make(**login_options()) as door, pytest.raises(AuthError) as caught:
        list(door.pull())
    assert login.call_count == 2
    message = str(caught.value)
    assert "password" in message
    assert "pa55word" not in message
    assert "zz-session-zz" not in message


def test_refused_login_is_an_auth_error() -> None:
    """Wrong credentials (401 or 422 at login) are an AuthError."""
    respx.post(BASE + "login").respond(422, json={"message": "Email atau kata sandi salah."})
    with make(**login_options()) as door, pytest.raises(AuthError, match="salah"):
        list(door.pull())


def test_login_answer_without_token_is_a_protocol_error() -> None:
    """A login answer with nothing at token_path is a ProtocolError naming token_path."""
    respx.post(BASE + "login").respond(json={"data": {}})
    with make(**login_options()) as door, pytest.raises(ProtocolError, match=r"data\.token"):
        list(door.pull())


@pytest.mark.parametrize(
    ("options", "header", "value"),
    [
        ({"auth": "bearer", "token": "b3arer"}, "Authorization", "Bearer b3arer"),
        (
            {"auth": "basic", "username": "u", "password": "p"},
            "Authorization",
            "Basic " + base64.b64encode(b"u:p").decode(),
        ),
        ({"auth": "api_key", "api_key": "k3y", "api_key_header": "X-Key"}, "X-Key", "k3y"),
    ],
)
def test_static_auth_headers(options: dict[str, Any], header: str, value: str) -> None:
    """bearer, basic and api_key auth send their header on every call."""
    route = respx.get(BASE + "items").mock(return_value=items([]))
    with make(**options) as door:
        list(door.pull())
    assert route.calls.last.request.headers[header] == value


def test_missing_secrets_are_all_reported_at_construction() -> None:
    """ConfigError names every secret the chosen auth needs and that is missing."""
    with pytest.raises(ConfigError) as caught:
        make(auth="login")
    assert "connectors.door.username" in str(caught.value)
    assert "connectors.door.password" in str(caught.value)


def test_inconsistent_settings_are_reported_at_construction() -> None:
    """Cursor pagination without its keys and a detail path without an id are config errors."""
    with pytest.raises(ConfigError) as caught:
        make(pagination="cursor", detail_path="detail", fetch_detail=True)
    assert len(caught.value.problems) == 2


def test_unknown_settings_keys_are_refused() -> None:
    """A misspelt key is an error, not silently ignored."""
    with pytest.raises(ValueError, match="recods_path"):
        make(recods_path="data")


def test_page_pagination_stops_at_last_page() -> None:
    """Page pagination reads pages 1..last_page, with static params on every call."""
    route = respx.get(BASE + "items").mock(
        side_effect=[
            items([{"id": 1}], last=2),
            items([{"id": 2}], last=2),
        ]
    )
    with make(last_page_path="last", list_params={"cid": "3"}) as door:
        assert list(door.pull()) == [[{"id": 1}], [{"id": 2}]]
    assert [c.request.url.params["page"] for c in route.calls] == ["1", "2"]
    assert all(c.request.url.params["cid"] == "3" for c in route.calls)


def test_page_pagination_without_last_page_stops_at_a_short_page() -> None:
    """Without last_page_path a page shorter than page_size is the last one."""
    route = respx.get(BASE + "items").mock(
        side_effect=[items([{"id": 1}, {"id": 2}]), items([{"id": 3}])]
    )
    with make(page_size=2, page_size_param="per_page") as door:
        assert len(list(door.pull())) == 2
    assert route.calls.last.request.url.params["per_page"] == "2"


def test_page_pagination_stops_at_an_empty_page() -> None:
    """Without page_size or last_page_path the listing ends at an empty page."""
    respx.get(BASE + "items").mock(side_effect=[items([{"id": 1}]), items([])])
    with make() as door:
        assert list(door.pull()) == [[{"id": 1}]]


def test_a_server_ignoring_the_page_parameter_is_a_protocol_error() -> None:
    """The same page twice in a row stops the listing instead of looping for ever."""
    respx.get(BASE + "items").mock(return_value=items([{"id": 1}]))
    with make() as door, pytest.raises(ProtocolError, match="repeats"):
        list(door.pull())


def test_cursor_pagination_follows_next_cursor() -> None:
    """Cursor pagination passes each next cursor until there is none."""
    route = respx.get(BASE + "items").mock(
        side_effect=[
            items([{"id": 1}], next="c2"),
            items([{"id": 2}], next="c3"),
            items([], next=None),
        ]
    )
    with make(pagination="cursor", cursor_param="after", next_cursor_path="next") as door:
        assert list(door.pull()) == [[{"id": 1}], [{"id": 2}]]
    assert [c.request.url.params.get("after") for c in route.calls] == [None, "c2", "c3"]


def test_since_param_makes_a_cursor_feed() -> None:
    """With since_param the connector is a cursor feed and sends since as ISO-8601."""
    route = respx.get(BASE + "items").mock(return_value=items([]))
    with make(since_param="updated_since") as door:
        assert door.change_feed == "cursor"
        list(door.pull(datetime(2024, 5, 1, tzinfo=UTC)))
    assert route.calls.last.request.url.params["updated_since"] == "2024-05-01T00:00:00+00:00"
    assert make().change_feed == "scan"


def test_missing_records_path_is_a_protocol_error() -> None:
    """An answer without a list at records_path raises instead of yielding nothing."""
    respx.get(BASE + "items").respond(json={"success": True, "data": {"rows": []}})
    with make() as door, pytest.raises(ProtocolError, match="records_path"):
        list(door.pull())


def test_success_false_on_a_read_is_a_protocol_error() -> None:
    """success: false with HTTP 200 on a read stops the route with the server's message."""
    respx.get(BASE + "items").respond(json={"success": False, "message": "Maintenance"})
    with make(success_path="success") as door, pytest.raises(ProtocolError, match="Maintenance"):
        list(door.pull())


def test_detail_by_param_or_template_and_404_is_none() -> None:
    """get uses detail_id_param or an {id} template; a 404 means None."""
    respx.get(BASE + "detail", params={"pengaduan_id": "7"}).respond(json={"data": {"id": 7}})
    respx.get(BASE + "items/8").respond(json={"data": {"id": 8}})
    respx.get(BASE + "items/9").respond(404, json={"message": "tidak ditemukan"})
    with make(detail_path="detail", detail_id_param="pengaduan_id") as door:
        assert door.get("7") == {"id": 7}
    with make(detail_path="items/{id}") as door:
        assert door.get("8") == {"id": 8}
        assert door.get("9") is None


def test_a_refused_listing_or_detail_stops_the_route() -> None:
    """A 404 listing and a 400 detail are ReadRefused (a RouteError) naming the path and keys."""
    respx.get(BASE + "items").respond(404, json={"message": "Not Found"})
    respx.get(BASE + "items/5").respond(400, json={"message": "bad id"})
    with make(detail_path="items/{id}", ref_field="ref") as door:
        with pytest.raises(ReadRefused) as listing:
            list(door.pull())
        with pytest.raises(ReadRefused) as search:
            door.find_by_ref("lbref")
        with pytest.raises(ReadRefused) as detail:
            door.get("5")
    assert isinstance(listing.value, RouteError) and listing.value.status_code == 404
    assert "(GET /api/items); check base_url and list_path" in str(listing.value)
    assert "search_param of connector 'door'" in str(search.value)
    assert "(GET /api/items/5); check base_url and detail_path" in str(detail.value)


def test_fetch_detail_replaces_listed_records() -> None:
    """fetch_detail yields each listed record's detail instead of the summary."""
    respx.get(BASE + "items").mock(side_effect=[items([{"id": 1}]), items([])])
    respx.get(BASE + "items/1").respond(json={"data": {"id": 1, "full": True}})
    with make(detail_path="items/{id}", fetch_detail=True) as door:
        assert list(door.pull()) == [[{"id": 1, "full": True}]]


def test_fetch_detail_reads_a_page_s_details_concurrently_in_order() -> None:
    """With max_concurrency 2, two detail reads are in flight together; the page keeps order."""
    both_in_flight = threading.Barrier(2, timeout=10)

    def detail(request: httpx.Request) -> httpx.Response:
        record_id = int(request.url.path.rsplit("/", 1)[1])
        if record_id <= 2:
            both_in_flight.wait()  # only returns once the other read has started too
        return httpx.Response(200, json={"data": {"id": record_id, "full": True}})

    respx.get(BASE + "items").mock(side_effect=[items([{"id": i} for i in (1, 2, 3)]), items([])])
    respx.get(url__regex=BASE + r"items/\d+").mock(side_effect=detail)
    with make(detail_path="items/{id}", fetch_detail=True, max_concurrency=2) as door:
        assert list(door.pull()) == [[{"id": i, "full": True} for i in (1, 2, 3)]]


def test_create_json_with_ref_and_attachment_urls() -> None:
    """create sends JSON with the ref field and attachment URLs, and returns the new id."""
    route = respx.post(BASE + "add").respond(json={"success": True, "data": {"id": 42}})
    door = make(create_path="add", ref_field="ref", attachments_field="files")
    files = [Attachment(filename="a.jpg", url="https://x/a.jpg"), Attachment(filename="b")]
    assert door.create({"topik": "t"}, files, "lbref") == "42"
    assert json.loads(route.calls.last.request.content) == {
        "topik": "t",
        "ref": "lbref",
        "files": ["https://x/a.jpg"],
    }


def test_create_form_format() -> None:
    """create_format=form posts an urlencoded form."""
    route = respx.post(BASE + "add").respond(json={"data": {"id": "a1"}})
    assert make(create_path="add", create_format="form").create({"topik": "t"}, [], "r") == "a1"
    assert parse_qs(route.calls.last.request.content.decode()) == {"topik": ["t"]}


def test_create_is_never_retried() -> None:
    """A create that meets a 5xx is tried once."""
    route = respx.post(BASE + "add").respond(500)
    with pytest.raises(Exception, match="500"):
        make(create_path="add").create({"topik": "t"}, [], "r")
    assert route.call_count == 1


def test_create_refused_with_success_false_is_remote_rejected() -> None:
    """success: false on a create means the record was refused: RemoteRejected with the message."""
    respx.post(BASE + "add").respond(json={"success": False, "message": "Kolom topik wajib diisi."})
    with pytest.raises(RemoteRejected, match="topik"):
        make(create_path="add", success_path="success").create({}, [], "r")


def test_create_422_carries_the_server_message() -> None:
    """A 422 on create is RemoteRejected with the server's message."""
    respx.post(BASE + "add").respond(422, json={"success": False, "message": "Kolom x tidak sah"})
    with pytest.raises(RemoteRejected) as caught:
        make(create_path="add").create({"nik": "5103010101010001"}, [], "r")
    assert caught.value.status_code == 422
    assert "Kolom x tidak sah" in caught.value.reason
    assert "5103010101010001" not in caught.value.reason


def test_capabilities_follow_settings() -> None:
    """can_create and can_find_by_ref follow create_path and ref_field."""
    plain = make()
    assert (plain.can_create, plain.can_find_by_ref) == (False, False)
    full = make(create_path="add", ref_field="ref")
    assert (full.can_create, full.can_find_by_ref) == (True, True)


def test_find_by_ref_searches_and_matches_whole_tokens() -> None:
    """find_by_ref sends search_param and only accepts the ref as a whole token."""
    route = respx.get(BASE + "items").mock(
        side_effect=[
            items([{"id": 1, "ref": "lbref9"}, {"id": 2, "ref": "x #lbref"}]),
            items([]),
        ]
    )
    with make(ref_field="ref", search_param="s") as door:
        assert door.find_by_ref("lbref") == "2"
    assert route.calls[0].request.url.params["s"] == "lbref"


def test_find_by_ref_reads_the_detail_when_the_listing_lacks_the_field() -> None:
    """A listed record without the ref field is checked through its detail."""
    respx.get(BASE + "items").mock(side_effect=[items([{"id": 5}]), items([])])
    respx.get(BASE + "items/5").respond(json={"data": {"id": 5, "ref": "lbref"}})
    with make(ref_field="ref", detail_path="items/{id}") as door:
        assert door.find_by_ref("lbref") == "5"


def test_download_sends_credentials_only_to_our_host() -> None:
    """download uses our auth for files on base_url's host, and none on attachment_hosts."""
    respx.post(BASE + "login").respond(json={"data": {"token": "t1"}})
    ours = respx.get("https://door.example.go.id/api/files/a.jpg").respond(content=b"A")
    theirs = respx.get("https://cdn.example.com/b.jpg").respond(content=b"B")
    with make(**login_options(attachment_hosts=["cdn.example.com"])) as door:
        assert door.download(Attachment(filename="a", url="files/a.jpg")) == b"A"
        assert door.download(Attachment(filename="b", url="https://cdn.example.com/b.jpg")) == b"B"
    assert ours.calls.last.request.headers["Authorization"] == "Bearer t1"
    assert "Authorization" not in theirs.calls.last.request.headers


@pytest.mark.parametrize(
    ("body", "path", "value"),
    [({"a": {"b": 1}}, "a.b", 1), ({"a": [{"b": 2}]}, "a.0.b", 2), ([1], "", [1]), ({}, "x", None)],
)
def test_dig_follows_dotted_paths(body: Any, path: str, value: Any) -> None:
    """dig walks dicts and list indexes; a missing key gives the default."""
    assert dig(body, path, default=None) == value


def test_has_token_is_whole_token() -> None:
    """has_token matches whole tokens, with or without a leading #."""
    assert has_token("a #lbref b", "lbref")
    assert has_token(["lbref"], "lbref")
    assert not has_token("lbref9", "lbref")
    assert not has_token(None, "lbref")
