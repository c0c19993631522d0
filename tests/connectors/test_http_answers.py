"""Answers that look like success but are not: failure envelopes, created ids, bad tokens.

LAPOR! runs against a real loopback server (``tests.rawserver``); the REST and Open311
edge cases use respx.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx

from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.connectors.rest import RestConnector, RestSettings
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    ReadRefused,
    RemoteRejected,
    RetryableError,
)
from bridge.http import RetrySettings
from tests.rawserver import json_answer, serve

ONCE = RetrySettings(attempts=1)
NOT_IDS: list[Any] = [0, "0", None, False, "", " ", [], {"id": 5}, [7]]


def lapor(url: str, **options: Any) -> LaporConnector:
    settings = LaporSettings.model_validate(
        {"type": "lapor", "base_url": url, "api_key": "k", "api_guid": "g", **options}
    )
    return LaporConnector("lapor", settings, retry=ONCE)


@pytest.mark.parametrize(
    ("envelope", "error"),
    [
        ({"success": False, "code": 401, "message": "token kedaluwarsa"}, AuthError),
        ({"success": False, "code": 503, "message": "sibuk"}, RetryableError),
        # A listing refused is the route's problem, not one record's (issue 10, part 3).
        ({"success": False, "code": "404", "message": "tidak ada"}, ReadRefused),
        ({"status": "error", "message": "gagal"}, ProtocolError),
        ({"success": "false", "results": {"data": []}}, ProtocolError),
    ],
)
def test_lapor_200_with_a_failure_envelope_is_that_failure(
    envelope: dict[str, Any], error: type[Exception]
) -> None:
    """An HTTP 200 whose envelope says failure raises what its status would, never success."""
    with (
        serve({"/complaints": json_answer(envelope)}) as server,
        lapor(server.url) as hub,
        pytest.raises(error),
    ):
        list(hub.pull())


def test_lapor_create_refused_in_a_200_envelope_sets_the_record_aside() -> None:
    """A create answered 200 {success: false, code: 422} is RemoteRejected with its message."""
    refusal = {"success": False, "code": 422, "message": "judul wajib diisi"}
    with (
        serve({"/complaints/complaint": json_answer(refusal)}) as server,
        lapor(server.url) as hub,
        pytest.raises(RemoteRejected, match="judul wajib diisi"),
    ):
        hub.create({"title": "t"}, [], "lb0123456789abcdef")


@pytest.mark.parametrize("value", NOT_IDS)
@pytest.mark.parametrize("where", ["complaint_id", "results.complaint.id"])
def test_lapor_create_answered_without_a_usable_id_is_not_success(value: Any, where: str) -> None:
    """complaint_id 0/null/false/""/a list is a ProtocolError: the intent stays unconfirmed."""
    body: dict[str, Any] = {"complaint_id": value}
    if where != "complaint_id":
        body = {"results": {"complaint": {"id": value}}}
    with (
        serve({"/complaints/complaint": json_answer(body)}) as server,
        lapor(server.url) as hub,
        pytest.raises(ProtocolError),
    ):
        hub.create({"title": "t"}, [], "lb0123456789abcdef")


def test_lapor_create_with_a_real_id_still_succeeds() -> None:
    """A numeric or text id is taken as before."""
    with (
        serve({"/complaints/complaint": json_answer({"complaint_id": 4100001})}) as server,
        lapor(server.url) as hub,
    ):
        assert hub.create({"title": "t"}, [], "lb0123456789abcdef") == "4100001"


@pytest.mark.parametrize("value", NOT_IDS)
@respx.mock
def test_rest_create_answered_without_a_usable_id_is_not_success(value: Any) -> None:
    """A REST door's create whose created_id_path holds no id is a ProtocolError."""
    respx.post("https://door.example.go.id/api/add").respond(json={"data": {"id": value}})
    settings = RestSettings(
        type="rest", base_url="https://door.example.go.id/api/", list_path="items",
        create_path="add",
    )  # fmt: skip
    with RestConnector("door", settings, retry=ONCE) as door, pytest.raises(ProtocolError):
        door.create({"topik": "t"}, [], "lb0123456789abcdef")


# 0 is a real id on a server counting from zero (issue 12): test_open311_answers links it.
@pytest.mark.parametrize("value", [False, [], {"id": 1}])
@respx.mock
def test_open311_create_answered_without_a_usable_id_is_not_success(value: Any) -> None:
    """A GeoReport create whose service_request_id names nothing is a ProtocolError."""
    base = "https://311.example.go.id/open311/v2/"
    respx.post(base + "requests.json").respond(json=[{"service_request_id": value}])
    settings = Open311Settings(type="open311", base_url=base, api_key="k")
    with Open311Connector("o", settings, retry=ONCE) as door, pytest.raises(ProtocolError):
        door.create({"service_code": "1", "description": "d"}, [], "lb0123456789abcdef")


@pytest.mark.parametrize("key", ["k\u00e9y", "key\r\nX-Injected: 1"])
def test_an_unsendable_configured_secret_is_a_config_error_naming_the_header(key: str) -> None:
    """A non-ASCII or multi-line api_key fails at start naming the header, never its value."""
    with pytest.raises(ConfigError, match="header 'auth'") as caught:
        lapor("https://api-splp.layanan.go.id/lapor/3.0.0", api_key=key)
    assert key not in str(caught.value)


@pytest.mark.parametrize("token", ["t\u00f6ken", "tok\nen", "tok\x00en"])
@respx.mock
def test_an_unsendable_login_token_is_a_protocol_error(token: str) -> None:
    """A login answer whose token cannot be a header stops the route with a clear error."""
    base = "https://door.example.go.id/api/"
    respx.post(base + "login").respond(json={"token": token})
    settings = RestSettings(
        type="rest", base_url=base, list_path="items", auth="login", username="u", password="p",
    )  # fmt: skip
    with (
        RestConnector("door", settings, retry=ONCE) as door,
        pytest.raises(ProtocolError, match="header cannot carry"),
    ):
        list(door.pull())
    assert not any(c.request.url.path.endswith("items") for c in respx.calls)


def test_a_plain_success_envelope_passes() -> None:
    """success: true (or no flag at all) is an ordinary answer."""
    body = {"success": True, "results": {"data": [], "next_page_url": None}}
    with serve({"/complaints": json_answer(body)}) as server, lapor(server.url) as hub:
        assert list(hub.pull()) == []
