"""The Open311 connector reads real servers' answers: error shapes, a refused key, id "0".

The shapes are written by us after real servers: the standard's list
``[{"code", "description"}]``; Django REST framework's ``{"detail": …}`` (the Helsinki
GeoReport v2 server, which adds ``code``); ``{"message": …}`` of Express/Laravel servers;
and a 400 "Invalid api_key" where the standard suggests 403.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import AuthError, ProtocolError, ReadRefused, RemoteRejected
from bridge.http import RetrySettings

BASE = "https://311.example.go.id/open311/v2"
KEY = "k3y-open311"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NEW = {"service_code": "171", "description": "Lampu mati", "lat": -8.6, "long": 115.2}


@pytest.fixture
def open311() -> Iterator[Open311Connector]:
    values: dict[str, Any] = {"type": "open311", "base_url": BASE + "/", "api_key": KEY}
    settings = Open311Settings.model_validate(values)
    retry = RetrySettings(attempts=1, wait_initial=0, wait_max=0)
    connector = Open311Connector("city", settings, retry=retry, clock=lambda: NOW)
    with respx.mock:
        yield connector
    connector.close()


@pytest.mark.parametrize(
    "body",
    [
        [{"code": 400, "description": "service_code 99 not found"}],
        {"code": "invalid", "detail": "service_code 99 not found"},
        {"message": "service_code 99 not found"},
        ["service_code 99 not found"],
    ],
)
def test_the_servers_error_text_is_read_in_every_common_shape(
    open311: Open311Connector, body: Any
) -> None:
    """A refused create names the server's own reason, not "HTTP 400: Bad Request"."""
    respx.post(f"{BASE}/requests.json").mock(return_value=httpx.Response(400, json=body))
    with pytest.raises(RemoteRejected, match="HTTP 400: service_code 99 not found"):
        open311.create(NEW, [], "lb00000000000000aa")


def test_a_400_invalid_api_key_is_an_auth_error_not_a_refused_record(
    open311: Open311Connector,
) -> None:
    """ "Invalid api_key" answered 400 stops the route (AuthError) instead of setting aside."""
    answer = httpx.Response(400, json=[{"code": 400, "description": "Invalid api_key"}])
    respx.post(f"{BASE}/requests.json").mock(return_value=answer)
    with pytest.raises(AuthError, match="check secret api_key of connector 'city'"):
        open311.create(NEW, [], "lb00000000000000aa")


def test_a_listing_refused_with_detail_names_the_reason_and_the_keys(
    open311: Open311Connector,
) -> None:
    """A listing refused with {"detail"} stops the route with that text and what to check."""
    answer = httpx.Response(400, json={"detail": "jurisdiction_id is required"})
    # format = "auto" asks requests.xml once too before giving up: same answer there.
    respx.get(url__regex=rf"{BASE}/requests\.(json|xml)").mock(return_value=answer)
    with pytest.raises(ReadRefused, match="jurisdiction_id is required"):
        list(open311.pull(NOW - timedelta(days=1)))


def test_a_create_answered_with_id_0_is_linked_to_0(open311: Open311Connector) -> None:
    """Id "0" is a server's first id, not "no id": the create is linked to it."""
    respx.post(f"{BASE}/requests.json").respond(json=[{"service_request_id": 0}])
    assert open311.create(NEW, [], "lb00000000000000aa") == "0"


def test_a_create_answered_with_an_empty_id_and_no_token_is_a_protocol_error(
    open311: Open311Connector,
) -> None:
    """An empty id and no token: the route stops and the next cycle finds the record by ref."""
    respx.post(f"{BASE}/requests.json").respond(json=[{"service_request_id": ""}])
    with pytest.raises(ProtocolError, match="neither service_request_id nor token"):
        open311.create(NEW, [], "lb00000000000000aa")
