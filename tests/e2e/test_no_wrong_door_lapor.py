"""No Wrong Door, the third copy: the citizen files on lapor.go.id the complaint the front
office and the WhatsApp desk typed already (real HTTP, simulators, the check on both ways)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.demo import BADUNG
from bridge.ledger.duplicates import NOT_DUPLICATE, REVIEW
from bridge.model import make_ref
from tests.cli.test_cli import bridge
from tests.e2e.test_duplicates_across_doors import (
    CHECK_ON,
    SECRETS,
    TwoDoors,
    answer_routes,
    copy_to_desk,
    doors,
)
from tests.simulated import hub_by_ref, open_ledger, sync_route

pytestmark = pytest.mark.e2e
WITA = timezone(timedelta(hours=8))
__all__ = ["doors"]  # the fixture

HOME = "lapor-to-sidumas"


def _a_day_after(tanggal: str) -> str:
    """SIDUMAS's zone-less `tanggal` (WITA) plus one day, as LAPOR!'s ISO created_at."""
    at = datetime.strptime(tanggal, "%Y-%m-%d %H:%M:%S").replace(tzinfo=WITA)
    return (at + timedelta(days=1)).isoformat()


def test_a_third_copy_filed_on_lapor_is_held_not_created_at_home(doors: TwoDoors) -> None:
    """Front office and desk joined one LAPOR! complaint; the citizen's own copy on
    lapor.go.id is a second LAPOR! complaint (LAPOR! allows it; the bridge cannot delete a
    hub complaint). Disposed to the agency, it is not created in SIDUMAS a second time: it
    waits for a person with the evidence (the complaint holds a LAPOR! record already), and
    `not-duplicate` delivers it on its own; nothing is lost, nothing doubled."""
    doors.sync()
    original = doors.public()[0]
    copy_to_desk(doors, original, 901)
    assert doors.sync()[1].counts.get("duplicate") == 1
    with doors.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[[routes]]\nname = "{HOME}"\nsource = "lapor"\ntarget = "sidumas"\n')
        config.write(CHECK_ON)
    assert sync_route(doors.config, HOME, SECRETS).ok  # the first pass links what it sent
    front_before = len(doors.front.records)
    filed = doors.hub.insert_raw(
        {
            "title": original["topik"],
            "content": original["uraian"],
            "disposition_id": BADUNG,
            "category_id": 1,
            "classification_id": 1,
            "channel": 1,
            # Filed a day after the front office typed it (WITA): within the check's window.
            "created_at": _a_day_after(original["tanggal"]),
        }
    )
    held = sync_route(doors.config, HOME, SECRETS)
    assert held.ok and held.counts.get("set_aside") == 1 and not held.counts.get("create")
    assert len(doors.front.records) == front_before
    ref = make_ref("sidumas", str(original["id"]))
    with open_ledger(doors.config, SECRETS) as ledger:
        [pair] = ledger.duplicates.pairs(REVIEW)
        assert (pair.system, pair.source_id, pair.candidate) == ("lapor", str(filed["id"]), ref)
        assert pair.evidence["exact"] is True and pair.evidence["same_system"] is True
        [trace] = ledger.history.find(ref)
        assert "duplicate.review" in [e.kind for e in trace.events]
    refused = bridge("review", "link", str(pair.id), "--config", str(doors.config), secrets=SECRETS)
    assert refused.returncode == 1 and "holds one record per system" in refused.stderr
    with open_ledger(doors.config, SECRETS) as ledger:
        ledger.duplicates.decide(pair.id, NOT_DUPLICATE, "test")
    delivered = sync_route(doors.config, HOME, SECRETS)
    assert delivered.ok and delivered.counts.get("create") == 1, delivered.counts
    assert len(doors.front.records) == front_before + 1
    again = sync_route(doors.config, HOME, SECRETS)
    assert again.ok and not again.counts.get("create")
    by_ref = hub_by_ref(doors.hub.complaints.values())
    assert len(by_ref[ref]) == 1 and make_ref("wadesk", "901") not in by_ref


ANSWER = "Petugas meja WhatsApp: laporan sudah diteruskan ke UPT Jalan."


def _due_now(doors: TwoDoors, route: str, system: str, remote_id: str) -> None:
    """The route's next re-poll of the record comes: as the schedule would, minutes later."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    with open_ledger(doors.config, SECRETS) as ledger:
        ledger.route_links.schedule(route, system, [(remote_id, past)])


def test_a_follow_up_typed_at_one_door_reaches_lapor_once_and_the_other_door_from_there(
    doors: TwoDoors,
) -> None:
    """The hub is the one place answers go: the desk's answer goes to LAPOR! once, reaches
    the front office from LAPOR! at that route's next re-poll, and never comes back."""
    doors.sync()
    original = doors.public()[0]
    copy_to_desk(doors, original, 902, tanggapans=[])
    assert doors.sync()[1].counts.get("duplicate") == 1
    routes = answer_routes(doors)
    for route in routes:
        assert sync_route(doors.config, route, SECRETS).ok
    doors.desk.add_tanggapan(902, {"tanggapan": ANSWER, "tipe": 1, "nama": "Petugas"})
    _due_now(doors, "wadesk-to-lapor", "wadesk", "902")
    assert sync_route(doors.config, "wadesk-to-lapor", SECRETS).ok
    [hub_copy] = hub_by_ref(doors.hub.complaints.values())[make_ref("sidumas", str(original["id"]))]
    _due_now(doors, HOME, "lapor", str(hub_copy["id"]))
    for _ in range(2):
        for route in ("sidumas-to-lapor", "wadesk-to-lapor", *routes):
            report = sync_route(doors.config, route, SECRETS)
            assert report.ok, report.error
    in_hub = [f["content"] for f in doors.hub.get(hub_copy["id"])["followups"]]
    in_front = [t["tanggapan"] for t in doors.front.find(original["id"])["tanggapans"]]
    in_desk = [t["tanggapan"] for t in doors.desk.find(902)["tanggapans"]]
    assert (in_hub.count(ANSWER), in_front.count(ANSWER), in_desk.count(ANSWER)) == (1, 1, 1)
