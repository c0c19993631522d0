"""The Open311 connector against servers with no updates extension and with mySociety's.

Over real HTTP on loopback against the simulator: ``updates=False`` serves no
``servicerequestupdates`` route (404, as a plain GeoReport v2 server); ``updates_dialect=
"mysociety"`` refuses ``service_request_id`` on the listing and wants the client's
``update_id`` and an upper-case status, as mySociety's open311-adapter does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.errors import ReadRefused, RemoteRejected
from bridge.http import RetrySettings
from bridge.testing.simulators.open311 import DEMO_API_KEY, create_app
from bridge.testing.simulators.open311_state import SERVICE_NAMES, Open311State
from bridge.testing.simulators.server import serve_in_thread

pytestmark = pytest.mark.e2e
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Ticking:
    """Each reading one second later: every write gets its own second, as on a real server."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def connect(
    app_options: dict[str, Any], **options: Any
) -> Iterator[tuple[Open311Connector, Open311State]]:
    clock = Ticking()
    state = Open311State(clock=clock)
    app = create_app(state, jurisdiction_id="x", **app_options)
    with serve_in_thread(app) as server:
        values: dict[str, Any] = {
            "type": "open311",
            "base_url": server.url + "/open311/v2/",
            "api_key": DEMO_API_KEY,
        }
        settings = Open311Settings.model_validate({**values, **options})
        retry = RetrySettings(attempts=1, wait_initial=0, wait_max=0)
        connector = Open311Connector("city", settings, retry=retry, clock=clock)
        try:
            yield connector, state
        finally:
            connector.close()


@pytest.fixture
def without_updates() -> Iterator[tuple[Open311Connector, Open311State]]:
    yield from connect({"updates": False})


@pytest.fixture
def mysociety() -> Iterator[tuple[Open311Connector, Open311State]]:
    yield from connect({"updates_dialect": "mysociety"}, updates_dialect="mysociety")


def new_request(state: Open311State) -> str:
    code = next(iter(SERVICE_NAMES))
    fields = {"service_code": code, "description": "Lampu mati", "lat": "-8.6", "long": "115.2"}
    return str(state.add_request(fields)["service_request_id"])


def test_a_server_without_updates_turns_follow_ups_off_and_says_so_once(
    without_updates: tuple[Open311Connector, Open311State],
) -> None:
    """A 404 on servicerequestupdates: none read, writes off, one warning, a notice."""
    connector, state = without_updates
    first, second = new_request(state), new_request(state)
    with capture_logs() as logs:
        assert connector.followups(first) == []
        assert connector.followups(second) == []
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["open311.updates.absent"]
    assert not connector.can_add_followups
    assert not connector.can_write_status
    assert "set updates = false" in connector.notices()[0]
    pulled = [
        r["service_request_id"] for page in connector.pull(NOW - timedelta(days=1)) for r in page
    ]
    assert sorted(pulled) == sorted([first, second])


def test_mysociety_updates_are_posted_and_read_back_exactly_once(
    mysociety: tuple[Open311Connector, Open311State],
) -> None:
    """In mySociety's dialect a note and a status change are accepted and the note read once."""
    connector, state = mysociety
    request_id = new_request(state)
    other = new_request(state)
    update_id = connector.add_followup(request_id, {"description": "Sudah dicek petugas"}, [])
    connector.add_followup(other, {"description": "Catatan lain"}, [])
    connector.set_status(request_id, {"status": "closed"})
    notes = connector.followups(request_id)
    assert [(n["id"], n["description"]) for n in notes] == [(update_id, "Sudah dicek petugas")]
    assert state.requests[request_id]["status"] == "closed"
    posted = [u["update_id"] for u in state.updates]
    assert len(set(posted)) == 3


def test_the_plain_dialect_is_refused_by_a_mysociety_server(
    mysociety: tuple[Open311Connector, Open311State],
) -> None:
    """The simulator holds the plain dialect to mySociety's rules: no update_id, refused."""
    connector, state = mysociety
    plain = Open311Connector(
        "plain", connector.options.model_copy(update={"updates_dialect": "plain"}), clock=Ticking()
    )
    try:
        with pytest.raises(RemoteRejected, match="missing update_id"):
            plain.add_followup(new_request(state), {"description": "x"}, [])
        with pytest.raises(ReadRefused, match="unexpected service_request_id"):
            plain.followups(new_request(state))
    finally:
        plain.close()


def test_status_notes_are_read_as_the_citys_answer_without_the_extension(
    without_updates: tuple[Open311Connector, Open311State],
) -> None:
    """A closed request's status_notes is one follow-up, the same on every read."""
    connector, state = without_updates
    request_id = new_request(state)
    state.close(request_id, "Lampu sudah diganti petugas.")
    first = connector.followups(request_id)
    assert [f["description"] for f in first] == ["Lampu sudah diganti petugas."]
    assert first[0]["update_id"].startswith("status_notes:")
    assert connector.followups(request_id) == first


def test_status_notes_copying_the_last_update_are_not_a_second_follow_up(
    mysociety: tuple[Open311Connector, Open311State],
) -> None:
    """A server copying an update's text into status_notes shows that note once, not twice."""
    connector, state = mysociety
    request_id = new_request(state)
    connector.add_followup(request_id, {"description": "Dijadwalkan besok"}, [])
    assert state.requests[request_id]["status_notes"] == "Dijadwalkan besok"
    assert [f["description"] for f in connector.followups(request_id)] == ["Dijadwalkan besok"]


@pytest.fixture
def by_request_time() -> Iterator[tuple[Open311Connector, Open311State]]:
    yield from connect(
        {"updates": False, "filter_field": "requested_datetime"},
        filter_field="requested_datetime",
        start_date="2026-01-01T00:00:00Z",
    )


def test_a_server_filtering_on_request_time_still_shows_an_old_request_closed(
    by_request_time: tuple[Open311Connector, Open311State],
) -> None:
    """filter_field = requested_datetime: a scan, so an old request's closing is pulled next."""
    connector, state = by_request_time
    old = new_request(state)
    state.clock.now += timedelta(days=20)  # type: ignore[attr-defined]
    state.close(old, "Selesai diperbaiki.")
    assert connector.change_feed == "scan"
    since = state.clock.now - timedelta(hours=1)  # type: ignore[attr-defined]
    pulled = [r for page in connector.pull(since) for r in page]
    assert [(r["service_request_id"], r["status"]) for r in pulled] == [(old, "closed")]
