"""The Open311 connector against mySociety's open311-adapter's updates extension.

The answers replayed are written from the adapter's own schemas and tests
(``fixtures/open311_mysociety.json`` names them): a listing that refuses any parameter
but the dates, numeric ``update_id``s, an empty description for a bare status change,
``media_url`` as a list, and a posted update answered with the server's own id. Each
test ends with every follow-up exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import ReadRefused
from bridge.http import RetrySettings

RECORDED: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "open311_mysociety.json").read_text()
)
BASE = "https://311.example.go.id/open311/v2"
NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
POST = RECORDED["post_update"]
ALLOWED = set(POST["required"]) | {k for k in POST["optional"] if "[" not in k}


def make(dialect: str = "mysociety") -> Open311Connector:
    settings = Open311Settings.model_validate(
        {
            "type": "open311",
            "base_url": BASE + "/",
            "api_key": "k3y",
            "jurisdiction_id": "badung",
            "updates_dialect": dialect,
            "format": "json",
        }
    )
    retry = RetrySettings(attempts=1, wait_initial=0, wait_max=0)
    return Open311Connector("fms", settings, retry=retry, clock=lambda: NOW)


def answer(shape: dict[str, Any]) -> httpx.Response:
    return httpx.Response(shape["status"], json=shape["body"], headers=shape["headers"])


def as_the_adapter_lists(request: httpx.Request) -> httpx.Response:
    """Its Rx schema: a parameter it does not list is a 400 error list."""
    if set(request.url.params) - {"jurisdiction_id", "api_key", "start_date", "end_date"}:
        return answer(RECORDED["listing_refused"])
    return answer(RECORDED["list_updates"])


@pytest.fixture
def adapter() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.get("/requests/SR00051624.json").mock(return_value=answer(RECORDED["get_request"]))
        router.get("/servicerequestupdates.json").mock(side_effect=as_the_adapter_lists)
        router.post("/servicerequestupdates.json").mock(return_value=answer(POST["answer"]))
        yield router


def test_the_adapters_updates_are_read_one_note_each(adapter: respx.MockRouter) -> None:
    """A numeric update_id, a bare status change skipped, another request's note left out."""
    connector = make()
    notes = connector.followups("SR00051624")
    again = connector.followups("SR00051624")
    assert [(n["id"], n["description"]) for n in notes] == [
        ("228029", "Petugas sudah meninjau lokasi")
    ]
    assert again == notes
    listed = [c.request for c in adapter.calls if "servicerequestupdates" in c.request.url.path]
    assert all(set(r.url.params) <= {"jurisdiction_id", "start_date", "end_date"} for r in listed)


def test_a_posted_note_carries_the_adapters_fields_and_keeps_its_id(
    adapter: respx.MockRouter,
) -> None:
    """Required fields present, nothing it refuses, upper-case status; the server's id kept."""
    connector = make()
    update_id = connector.add_followup("SR00051624", {"description": "Sudah dicek"}, [])
    connector.set_status("SR00051624", {"status": "closed"})
    posts = [c.request for c in adapter.calls if c.request.method == "POST"]
    forms = [
        {k: v[0] for k, v in parse_qs(r.content.decode(), keep_blank_values=True).items()}
        for r in posts
    ]
    assert update_id == "5d32469bb4e1b90150014310"
    assert len(posts) == 2
    for form in forms:
        assert set(POST["required"]) <= form.keys() <= ALLOWED, sorted(form)
        assert form["status"] in POST["status_upper"]
    assert [f["status"] for f in forms] == ["IN_PROGRESS", "CLOSED"]
    assert len({f["update_id"] for f in forms}) == 2


def test_the_plain_dialect_is_refused_by_the_adapter(adapter: respx.MockRouter) -> None:
    """service_request_id on the listing is a 400 naming the input: the route is told, not 404."""
    with pytest.raises(ReadRefused, match="Error in input for GET_Service_Request_Updates") as got:
        make("plain").followups("SR00051624")
    assert got.value.status_code == 400
