"""The generic REST connector's follow-up and status settings, against respx (no server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import respx

from bridge.connectors.rest import RestConnector, RestSettings
from bridge.errors import ConfigError, ProtocolError, RemoteRejected, RetryableError
from bridge.http import RetrySettings
from bridge.model import Attachment

BASE = "https://door.example.go.id/api/"
NO_WAIT = RetrySettings(attempts=3, wait_initial=0, wait_max=0)
FOLLOWUPS: dict[str, Any] = {
    "followups_path": "pengaduan/tindaklanjut",
    "followups_id_param": "pengaduan_id",
    "followups_records_path": "data",
    "add_followup_path": "pengaduan/tanggapan",
    "add_followup_id_field": "pengaduan_id",
    "added_followup_id_path": "data.id",
}
STATUS: dict[str, Any] = {"status_path": "pengaduan/status", "status_id_field": "pengaduan_id"}


def make(**options: Any) -> RestConnector:
    settings = RestSettings.model_validate(
        {"type": "rest", "base_url": BASE, "list_path": "items", **options}
    )
    return RestConnector("door", settings, retry=NO_WAIT)


@pytest.fixture(autouse=True)
def _mock() -> Iterator[None]:
    with respx.mock:
        yield


def test_capabilities_follow_the_settings() -> None:
    """Follow-ups need both paths, status writes need status_path; neither is on by default."""
    plain = make()
    assert not (plain.supports_followups or plain.can_write_status or plain.can_forward)
    full = make(**FOLLOWUPS, **STATUS)
    assert (full.supports_followups, full.can_write_status) == (True, True)


@pytest.mark.parametrize("only", ["followups_path", "add_followup_path"])
def test_one_followup_path_without_the_other_is_a_config_error(only: str) -> None:
    """followups_path and add_followup_path go together; the message names both."""
    with pytest.raises(ConfigError, match=r"followups_path.*add_followup_path"):
        make(**{only: "x"})


def test_followups_sends_the_id_param_and_reads_the_list() -> None:
    """followups GETs followups_path?<id param>=<id> and returns the list at the records path."""
    route = respx.get(BASE + "pengaduan/tindaklanjut").respond(
        json={"success": True, "data": [{"id": 1, "tanggapan": "a"}, {"id": 2, "tanggapan": "b"}]}
    )
    with make(**FOLLOWUPS, success_path="success") as door:
        assert [f["id"] for f in door.followups("42")] == [1, 2]
    assert route.calls.last.request.url.params["pengaduan_id"] == "42"


def test_followups_not_a_list_is_a_protocol_error() -> None:
    """An answer without a list at followups_records_path raises instead of returning []."""
    respx.get(BASE + "pengaduan/tindaklanjut").respond(json={"data": None})
    with make(**FOLLOWUPS) as door, pytest.raises(ProtocolError, match="follow-ups"):
        door.followups("42")


def test_followups_of_an_unknown_record_raise() -> None:
    """The server's 404 for an unknown record raises RemoteRejected."""
    respx.get(BASE + "pengaduan/tindaklanjut").respond(404, json={"message": "tidak ditemukan"})
    with make(**FOLLOWUPS) as door, pytest.raises(RemoteRejected):
        door.followups("42")


def test_add_followup_posts_json_with_the_id_field_and_returns_the_new_id() -> None:
    """add_followup posts the follow-up plus the id field once; the id is read at its path."""
    route = respx.post(BASE + "pengaduan/tanggapan").respond(json={"data": {"id": 9}})
    files = [Attachment(filename="a.png", url="https://x/a.png"), Attachment(filename="b")]
    with make(**FOLLOWUPS, followup_attachments_field="files") as door:
        new_id = door.add_followup("42", {"tanggapan": "Sudah", "tipe": 1}, files)
    assert new_id == "9"
    assert json.loads(route.calls.last.request.content) == {
        "tanggapan": "Sudah",
        "tipe": 1,
        "pengaduan_id": "42",
        "files": ["https://x/a.png"],
    }


def test_add_followup_as_form_and_without_an_id_in_the_answer() -> None:
    """add_followup_format = form posts a form; an answer without an id gives None."""
    route = respx.post(BASE + "pengaduan/tanggapan").respond(json={"data": {}})
    with make(**FOLLOWUPS, add_followup_format="form") as door:
        assert door.add_followup("42", {"tanggapan": "Sudah"}, []) is None
    sent = parse_qs(route.calls.last.request.content.decode())
    assert sent == {"tanggapan": ["Sudah"], "pengaduan_id": ["42"]}


def test_add_followup_is_not_retried_and_success_false_is_a_refusal() -> None:
    """A 503 is raised after one try; success false on a write is RemoteRejected."""
    route = respx.post(BASE + "pengaduan/tanggapan").respond(503)
    with make(**FOLLOWUPS) as door, pytest.raises(RetryableError):
        door.add_followup("42", {"tanggapan": "x"}, [])
    assert route.call_count == 1
    respx.post(BASE + "pengaduan/tanggapan").respond(json={"success": False, "message": "Ditolak"})
    door = make(**FOLLOWUPS, success_path="success")
    with door, pytest.raises(RemoteRejected, match="Ditolak"):
        door.add_followup("42", {"tanggapan": "x"}, [])


def test_set_status_posts_the_fields_with_the_id_field() -> None:
    """set_status posts the mapping's status fields and the record id to status_path."""
    route = respx.post(BASE + "pengaduan/status").respond(json={"data": {"id": 42}})
    with make(**STATUS) as door:
        door.set_status("42", {"status": 3})
    assert json.loads(route.calls.last.request.content) == {"status": 3, "pengaduan_id": "42"}


def test_set_status_as_form() -> None:
    """status_format = form posts the status as a form."""
    route = respx.post(BASE + "pengaduan/status").respond(json={})
    with make(**STATUS, status_format="form") as door:
        door.set_status("42", {"status": 3})
    assert parse_qs(route.calls.last.request.content.decode()) == {
        "status": ["3"],
        "pengaduan_id": ["42"],
    }


def test_unconfigured_operations_say_which_setting_is_missing() -> None:
    """Without the paths, the follow-up and status calls name the setting to add."""
    with make() as door:
        with pytest.raises(NotImplementedError, match="followups_path"):
            door.followups("1")
        with pytest.raises(NotImplementedError, match="add_followup_path"):
            door.add_followup("1", {}, [])
        with pytest.raises(NotImplementedError, match="status_path"):
            door.set_status("1", {})
