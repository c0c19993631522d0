"""Attachment URLs a record may carry to aim the bridge elsewhere (SSRF) or to stall a route.

End to end: SIDUMAS simulator → rest connector → engine → LAPOR! simulator. Each hostile
record is set aside with a reason naming what is wrong; every other record of the page
is delivered, and no request reaches a URL the bridge must not fetch.
"""

from __future__ import annotations

import pytest

from bridge.model import make_ref
from tests.hostile.conftest import TO_LAPOR, Pair
from tests.hostile.corpus import delivered_by_ref, load

pytestmark = pytest.mark.e2e

CORPUS = load("sidumas")


def hostile_urls(pair: Pair) -> dict[str, tuple[str, str]]:
    """Per record: (its attachment URL, a phrase its reason must hold)."""
    door, hub = pair.door.url, pair.hub.url
    port = door.rsplit(":", 1)[1]
    return {
        "another-loopback-service": (f"{hub}/complaints", "attachment_hosts"),
        "cloud-metadata": ("http://169.254.169.254/latest/meta-data/", "attachment_hosts"),
        "ipv6-loopback": (f"http://[::1]:{port}/api/files/x", "attachment_hosts"),
        "door-api-path": (f"{door}/api/pengaduan/list", "attachment_path_prefixes"),
        "dot-dot-out-of-files": (f"{door}/api/files/%2e%2e/pengaduan/list", "walks out"),
        "over-long": (f"{door}/api/files/{'a' * 3000}", "longer than 2048"),
        "malformed": ("http://[oops/x", "cannot be read"),
        "not-http": ("file:///etc/passwd", "not an http(s) URL"),
        "missing-file": (f"{door}/api/files/missing.jpg", "HTTP 404"),
    }


def test_hostile_attachment_urls_set_only_their_record_aside(pair: Pair) -> None:
    """Each hostile attachment URL sets its record aside with its reason; the rest is delivered."""
    cases = hostile_urls(pair)
    template = dict(CORPUS.good[0])
    ids: dict[str, str] = {}
    for number, (name, (url, _)) in enumerate(cases.items(), start=9500):
        record = {**template, "id": number, "files": [{"nama": f"{name}.jpg", "url": url}]}
        pair.door_state.upsert_raw(record)
        ids[str(number)] = name
    for record in CORPUS.good:
        pair.door_state.upsert_raw(record)

    report = pair.sync(TO_LAPOR)

    assert report.ok, report.error
    with pair.ledger() as ledger:
        held = {q.source_id: q for q in ledger.quarantine.listed(TO_LAPOR)}
    assert set(held) == set(ids)
    for source_id, name in ids.items():
        reason = held[source_id].reason
        assert cases[name][1] in reason, (name, reason)
    refs = delivered_by_ref(pair.hub_copies())
    assert len(refs) == len(CORPUS.good)
    assert all(make_ref("sidumas", i) not in refs for i in ids)
