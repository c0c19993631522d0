"""Attachment downloads: where they may come from, what goes with them, how they fail.

Every failure is the record's (``AttachmentUnavailable``, a ``RecordError``) and says
whether a later try may work; credentials go only to the door's attachment paths.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from bridge.connectors.rest import RestConnector, RestSettings
from bridge.errors import AttachmentUnavailable, RecordError
from bridge.http import RetrySettings
from bridge.model import Attachment
from tests.rawserver import answer, gzip_bomb, serve

BASE = "https://door.example.go.id/api/"
ONCE = RetrySettings(attempts=1)
KiB = 1024


def door(base: str = BASE, **options: Any) -> RestConnector:
    settings = RestSettings.model_validate(
        {"type": "rest", "base_url": base, "list_path": "items", "auth": "bearer",
         "token": "s3cret-token", **options}
    )  # fmt: skip
    return RestConnector("door", settings, retry=ONCE)


def fetch(connector: RestConnector, url: str) -> bytes:
    return connector.download(Attachment(filename="f.jpg", url=url))


def refused(connector: RestConnector, url: str) -> AttachmentUnavailable:
    with pytest.raises(AttachmentUnavailable) as caught:
        fetch(connector, url)
    return caught.value


def test_attachment_unavailable_is_a_record_error() -> None:
    """The engine sets the record aside for it (RecordError), naming the attachments field."""
    error = AttachmentUnavailable("x", transient=False)
    assert isinstance(error, RecordError)
    assert error.field == "attachments"


@respx.mock
def test_credentials_go_only_to_attachment_paths_of_our_origin() -> None:
    """files/ on base_url gets the token; an attachment_hosts file gets no credentials."""
    ours = respx.get(BASE + "files/a.jpg").respond(content=b"A")
    theirs = respx.get("https://cdn.example.com/b.jpg").respond(content=b"B")
    with door(attachment_hosts=["cdn.example.com"]) as d:
        assert fetch(d, "files/a.jpg") == b"A"
        assert fetch(d, "https://cdn.example.com/b.jpg") == b"B"
    assert ours.calls.last.request.headers["Authorization"] == "Bearer s3cret-token"
    assert "Authorization" not in theirs.calls.last.request.headers


@respx.mock
def test_the_doors_own_api_is_never_fetched_with_its_token() -> None:
    """A record pointing at the door's API (outside attachment_path_prefixes) is refused unsent."""
    api = respx.get(BASE + "users").respond(json={"secret": "everyone"})
    with door() as d:
        error = refused(d, BASE + "users")
    assert "attachment_path_prefixes" in error.reason
    assert not error.transient
    assert not api.called


@respx.mock
def test_configured_prefixes_replace_the_default() -> None:
    """attachment_path_prefixes names where files live; absolute ones are from the origin."""
    respx.get("https://door.example.go.id/media/x.jpg").respond(content=b"X")
    with door(attachment_path_prefixes=["/media/"]) as d:
        assert fetch(d, "/media/x.jpg") == b"X"
        assert "attachment_path_prefixes" in refused(d, "files/a.jpg").reason


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/x", "attachment_hosts"),
        ("http://169.254.169.254/latest/meta-data/", "attachment_hosts"),
        ("https://[::1]/x", "attachment_hosts"),
        ("https://door.example.go.id:8443/api/files/a", "attachment_hosts"),
        ("https://user:pw@door.example.go.id/api/files/a", "user name or password"),
        (BASE + "files/" + "a" * 2100, "longer than 2048"),
        ("https://[oops/x", "cannot be read"),
        ("gopher://door.example.go.id/api/files/a", "not an http(s) URL"),
        ("files/%2e%2e/users", "walks out"),
        ("files/a%2F..%2Fusers", "walks out"),
    ],
)
@respx.mock
def test_urls_outside_the_policy_are_refused_unsent(url: str, why: str) -> None:
    """Loopback, metadata, IPv6, other ports, userinfo, long, malformed: refused, never sent."""
    with door() as d:
        error = refused(d, url)
    assert why in error.reason
    assert not error.transient
    assert not respx.calls


@pytest.mark.parametrize("host", ["169.254.169.254", "127.0.0.1", "::1", "10.1.2.3"])
@respx.mock
def test_internal_addresses_are_refused_even_when_listed(host: str) -> None:
    """A door on the internet may not send us to an internal address, even a listed one."""
    literal = f"[{host}]" if ":" in host else host
    with door(attachment_hosts=[host]) as d:
        error = refused(d, f"https://{literal}/f.jpg")
    assert "internal address" in error.reason
    assert not respx.calls


@respx.mock
def test_a_redirect_is_not_followed() -> None:
    """A file that redirects (to another origin here) is refused, and the target never asked."""
    respx.get(BASE + "files/a.jpg").respond(302, headers={"Location": "http://169.254.169.254/"})
    with door() as d:
        error = refused(d, "files/a.jpg")
    assert "redirect" in error.reason
    assert len(respx.calls) == 1


@pytest.mark.parametrize(
    ("response", "transient"),
    [
        (httpx.Response(404), False),
        (httpx.Response(410), False),
        (httpx.Response(503), True),
        (httpx.ConnectError("dead host"), True),
        (httpx.ReadTimeout("slow"), True),
    ],
)
@respx.mock
def test_fetch_failures_say_whether_a_later_try_may_work(
    response: httpx.Response | Exception, transient: bool
) -> None:
    """4xx is lasting, 5xx and network failures transient; both are the record's problem."""
    respx.get(BASE + "files/a.jpg").mock(side_effect=[response])
    with door() as d:
        assert refused(d, "files/a.jpg").transient is transient


def test_an_oversize_attachment_is_refused_naming_the_key() -> None:
    """A file over max_attachment_bytes is set aside with a reason naming the setting."""
    with (
        serve({"/api/files/big.jpg": answer(b"x" * 64 * KiB)}) as server,
        door(f"{server.url}/api/", max_attachment_bytes=16 * KiB) as d,
    ):
        error = refused(d, "files/big.jpg")
    assert "max_attachment_bytes" in error.reason
    assert not error.transient


def test_a_gzip_bomb_attachment_stops_at_the_limit() -> None:
    """A gzip bomb is counted decoded: it stops at max_attachment_bytes."""
    with (
        serve({"/api/files/bomb.jpg": gzip_bomb(16 * 1024 * KiB)}) as server,
        door(f"{server.url}/api/", max_attachment_bytes=64 * KiB) as d,
    ):
        error = refused(d, "files/bomb.jpg")
    assert "larger than 65536 bytes" in error.reason


def test_a_door_on_loopback_serves_its_files_from_loopback() -> None:
    """The internal-address rule does not refuse a door that itself lives on loopback."""
    with serve({"/api/files/a.jpg": answer(b"A")}) as server:
        with door(f"{server.url}/api/") as d:
            assert fetch(d, "files/a.jpg") == b"A"
        assert server.requests[0][1]["Authorization"] == "Bearer s3cret-token"
