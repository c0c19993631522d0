"""No Wrong Door: the same complaint through two doors becomes one LAPOR! complaint (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bridge.demo import DEMO_SECRETS, write_config
from bridge.ledger.duplicates import LINKED, REVIEW, SPLIT
from bridge.model import make_ref
from bridge.sync import CycleReport
from bridge.testing.simulators import lapor, sidumas
from bridge.testing.simulators.corpus import load_corpus
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import serve_in_thread
from bridge.testing.simulators.sidumas_state import SidumasState
from tests.cli.test_cli import bridge
from tests.simulated import hub_by_ref, open_ledger, sync_route

pytestmark = pytest.mark.e2e

SECRETS = {
    **DEMO_SECRETS,
    "BRIDGE_CONNECTORS__WADESK__USERNAME": DEMO_SECRETS["BRIDGE_CONNECTORS__SIDUMAS__USERNAME"],
    "BRIDGE_CONNECTORS__WADESK__PASSWORD": DEMO_SECRETS["BRIDGE_CONNECTORS__SIDUMAS__PASSWORD"],
}
CHECK_ON = "\n[routes.duplicates]\nenabled = true\n"


@dataclass
class TwoDoors:
    """One LAPOR!, two SIDUMAS-like doors (the front office, a WhatsApp desk), one ledger."""

    hub: LaporState
    front: SidumasState
    desk: SidumasState
    config: Path

    def sync(self) -> list[CycleReport]:
        return [
            sync_route(self.config, route, SECRETS)
            for route in ("sidumas-to-lapor", "wadesk-to-lapor")
        ]

    def public(self) -> list[dict[str, Any]]:
        return [r for r in self.front.records if not r["hide_pengaduan"]]


@pytest.fixture
def doors(tmp_path: Path) -> Iterator[TwoDoors]:
    with ExitStack() as stack:
        hub_state, front, desk = LaporState(), SidumasState(), SidumasState()
        front.seed(6, load_corpus(limit=6))
        hub = stack.enter_context(serve_in_thread(lapor.create_app(hub_state)))
        front_url = stack.enter_context(serve_in_thread(sidumas.create_app(front))).url
        desk_url = stack.enter_context(serve_in_thread(sidumas.create_app(desk))).url
        path = write_config(tmp_path, hub.url, front_url, tmp_path / "ledger.db")
        text = path.read_text(encoding="utf-8")
        head = text.partition("[[routes]]")[0]
        block = head[head.index("[connectors.sidumas]") :]
        desk_block = block.replace("[connectors.sidumas]", "[connectors.wadesk]")
        desk_block = desk_block.replace(front_url, desk_url)
        path.write_text(
            f"{head}\n{desk_block}\n"
            f'[[routes]]\nname = "sidumas-to-lapor"\nsource = "sidumas"\ntarget = "lapor"\n'
            f"create_settle_seconds = 0\n{CHECK_ON}\n"
            f'[[routes]]\nname = "wadesk-to-lapor"\nsource = "wadesk"\ntarget = "lapor"\n'
            f"create_settle_seconds = 0\n{CHECK_ON}",
            encoding="utf-8",
        )
        yield TwoDoors(hub_state, front, desk, path)


def copy_to_desk(doors: TwoDoors, record: dict[str, Any], new_id: int, **changes: Any) -> None:
    doors.desk.upsert_raw({**record, "id": new_id, "files": [], **changes})


def test_the_same_complaint_through_two_doors_is_one_lapor_complaint_linked_to_both(
    doors: TwoDoors,
) -> None:
    """A verbatim copy typed at the WhatsApp desk links to the front office's LAPOR! complaint."""
    doors.sync()
    original = doors.public()[0]
    copy_to_desk(doors, original, 501)
    front_report, desk_report = doors.sync()
    assert front_report.ok and desk_report.ok, (front_report.error, desk_report.error)
    assert desk_report.counts.get("duplicate") == 1 and not desk_report.counts.get("create")
    by_ref = hub_by_ref(doors.hub.complaints.values())
    assert all(len(copies) == 1 for copies in by_ref.values())
    assert make_ref("wadesk", "501") not in by_ref
    ref = make_ref("sidumas", str(original["id"]))
    with open_ledger(doors.config, SECRETS) as ledger:
        assert ledger.links.of(ref, "wadesk").remote_id == "501"  # type: ignore[union-attr]
        assert ledger.links.of(ref, "sidumas").remote_id == str(original["id"])  # type: ignore[union-attr]
        assert ledger.links.of(ref, "lapor") is not None
        [pair] = ledger.duplicates.pairs(LINKED)
        assert pair.candidate == ref and pair.evidence["exact"] is True
        [trace] = ledger.history.find(ref)
        kinds = [e.kind for e in trace.events]
    assert "duplicate.linked" in kinds
    assert doors.sync()[1].counts.get("create", 0) == 0  # a rerun creates nothing


def test_a_wrong_link_split_delivers_both_and_loses_nothing(doors: TwoDoors) -> None:
    """Split: the desk's record leaves the complaint and is created in LAPOR! on its own."""
    doors.sync()
    original = doors.public()[0]
    copy_to_desk(doors, original, 502)
    doors.sync()
    with open_ledger(doors.config, SECRETS) as ledger:
        [pair] = ledger.duplicates.pairs(LINKED)
        ledger.duplicates.decide(pair.id, SPLIT, "test")
    _, desk_report = doors.sync()
    assert desk_report.ok and desk_report.counts.get("create") == 1
    by_ref = hub_by_ref(doors.hub.complaints.values())
    assert len(by_ref[make_ref("wadesk", "502")]) == 1
    assert len(by_ref[make_ref("sidumas", str(original["id"]))]) == 1
    with open_ledger(doors.config, SECRETS) as ledger:
        assert ledger.links.of(make_ref("sidumas", str(original["id"])), "wadesk") is None
        assert ledger.duplicates.pairs(SPLIT)[0].id == pair.id
    assert doors.sync()[1].counts.get("create", 0) == 0  # never proposed, nor sent, again


def test_a_similar_complaint_waits_for_a_person_then_goes_as_decided(doors: TwoDoors) -> None:
    """The grey band is held for review (not created); `not-duplicate` then delivers it."""
    doors.sync()
    original = doors.public()[0]
    words = original["uraian"].split()
    edited = " ".join(words[: int(len(words) * 0.8)])  # a fifth of the words dropped
    copy_to_desk(doors, original, 503, uraian=edited, telp="081200000000", email="x@y.id", nik="")
    _, held = doors.sync()
    assert held.counts.get("set_aside") == 1 and not held.counts.get("create")
    with open_ledger(doors.config, SECRETS) as ledger:
        [pair] = ledger.duplicates.pairs(REVIEW)
        assert pair.source_id == "503" and pair.candidate_text and pair.text
        ledger.duplicates.decide(pair.id, "not_duplicate", "test")
    _, after = doors.sync()
    assert after.counts.get("create") == 1
    assert len(hub_by_ref(doors.hub.complaints.values())[make_ref("wadesk", "503")]) == 1


def test_review_cli_shows_both_texts_and_links_a_held_record(doors: TwoDoors) -> None:
    """`bridge review duplicates/compare/link`: the held record then joins the complaint."""
    doors.sync()
    original = doors.public()[0]
    words = original["uraian"].split()
    edited = " ".join(words[: int(len(words) * 0.8)])
    copy_to_desk(doors, original, 504, uraian=edited, telp="081200000000", email="x@y.id", nik="")
    doors.sync()
    config = str(doors.config)
    listed = bridge("review", "duplicates", "--config", config, secrets=SECRETS)
    assert listed.returncode == 0, listed.stderr
    assert "wadesk 504" in listed.stdout and "score" in listed.stdout
    compared = bridge("review", "compare", "1", "--config", config, secrets=SECRETS)
    assert compared.returncode == 0, compared.stderr
    assert "new record: wadesk 504" in compared.stdout
    assert words[3].lower() in compared.stdout.lower()
    linked = bridge("review", "link", "1", "--config", config, secrets=SECRETS)
    assert linked.returncode == 0, linked.stderr
    assert "fetches record 504 from wadesk again" in linked.stdout
    _, after = doors.sync()
    assert after.counts.get("duplicate") == 1 and not after.counts.get("create")
    ref = make_ref("sidumas", str(original["id"]))
    with open_ledger(doors.config, SECRETS) as ledger:
        assert ledger.links.of(ref, "wadesk").remote_id == "504"  # type: ignore[union-attr]
        assert ledger.quarantine.listed("wadesk-to-lapor") == []
    undone = bridge("review", "split", "1", "--config", config, secrets=SECRETS)
    assert undone.returncode == 0, undone.stderr  # a person's link can be undone too
    missing = bridge("review", "compare", "77", "--config", config, secrets=SECRETS)
    assert missing.returncode == 1 and "No duplicate candidate with id 77" in missing.stderr


NEW_TEXT = (
    "Saluran air di depan Pasar Minggu tersumbat sampah sejak sebulan, setiap hujan jalan "
    "banjir setinggi lutut dan pedagang tidak bisa berjualan"
)


def test_two_copies_on_one_page_become_one_lapor_complaint(doors: TwoDoors) -> None:
    """Two copies typed at one door on one page: the first is created, the second waits a
    cycle, is then found in the index and held for a person (a LAPOR! complaint holds one
    record per door), and is delivered on its own once a person says it is not a copy."""
    original = doors.public()[0]
    copy_to_desk(doors, original, 601, uraian=NEW_TEXT)
    copy_to_desk(doors, original, 602, uraian=NEW_TEXT.upper())
    _, first = doors.sync()
    assert first.ok, first.error
    assert first.counts.get("create") == 1 and first.counts.get("deferred") == 1
    _, second = doors.sync()
    assert second.ok and second.counts.get("set_aside") == 1 and not second.counts.get("create")
    by_ref = hub_by_ref(doors.hub.complaints.values())
    assert len(by_ref[make_ref("wadesk", "601")]) == 1 and make_ref("wadesk", "602") not in by_ref
    with open_ledger(doors.config, SECRETS) as ledger:
        [pair] = ledger.duplicates.pairs(REVIEW)
        assert (pair.ref, pair.candidate) == (make_ref("wadesk", "602"), make_ref("wadesk", "601"))
        assert pair.evidence["exact"] is True and pair.evidence["same_system"] is True
    refused = bridge("review", "link", str(pair.id), "--config", str(doors.config), secrets=SECRETS)
    assert refused.returncode == 1 and "holds one record per system" in refused.stderr
    with open_ledger(doors.config, SECRETS) as ledger:
        ledger.duplicates.decide(pair.id, "not_duplicate", "test")
    _, after = doors.sync()
    assert after.counts.get("create") == 1
    assert len(hub_by_ref(doors.hub.complaints.values())[make_ref("wadesk", "602")]) == 1


def test_two_copies_of_another_doors_complaint_on_one_page_join_it_once(doors: TwoDoors) -> None:
    """Two desk copies of a front-office complaint on one page: the first joins it, the
    second is held for a person and stays held on later cycles; nothing is created."""
    doors.sync()
    original = doors.public()[0]
    copy_to_desk(doors, original, 801)
    copy_to_desk(doors, original, 802)
    _, desk = doors.sync()
    assert desk.counts.get("duplicate") == 1 and desk.counts.get("set_aside") == 1
    _, again = doors.sync()
    assert not again.counts.get("create") and not again.counts.get("duplicate")
    ref = make_ref("sidumas", str(original["id"]))
    with open_ledger(doors.config, SECRETS) as ledger:
        assert ledger.links.of(ref, "wadesk").remote_id == "801"  # type: ignore[union-attr]
        [held] = ledger.duplicates.pairs(REVIEW)
        assert held.source_id == "802" and held.evidence["same_system"] is True
    assert make_ref("wadesk", "802") not in hub_by_ref(doors.hub.complaints.values())


def answer_routes(doors: TwoDoors) -> tuple[str, ...]:
    """Add the routes from LAPOR! back to both doors (follow-ups and statuses of a group)."""
    routes = ("lapor-to-sidumas", "lapor-to-wadesk")
    with doors.config.open("a", encoding="utf-8") as config:
        for name in routes:
            door = name.removeprefix("lapor-to-")
            config.write(f'\n[[routes]]\nname = "{name}"\nsource = "lapor"\ntarget = "{door}"\n')
    return routes


def test_a_follow_up_and_status_in_lapor_reach_every_linked_record_once(doors: TwoDoors) -> None:
    """A complaint linked to a front-office and a desk record: LAPOR!'s answer and status
    reach both records, once each."""
    doors.sync()
    original = doors.public()[0]
    copy_to_desk(doors, original, 701, tanggapans=[])  # its own answers, not the front's list
    assert doors.sync()[1].counts.get("duplicate") == 1
    routes = answer_routes(doors)
    for route in routes:
        assert sync_route(doors.config, route, SECRETS).ok
    [hub_copy] = hub_by_ref(doors.hub.complaints.values())[make_ref("sidumas", str(original["id"]))]
    doors.hub.verify(hub_copy["id"])
    doors.hub.add_followup(
        {"complaint_id": hub_copy["id"], "content": "Lokasi sudah ditinjau."}, []
    )
    for _ in range(2):
        for route in routes:
            report = sync_route(doors.config, route, SECRETS)
            assert report.ok, report.error
    front, desk = doors.front.find(original["id"]), doors.desk.find(701)
    for record in (front, desk):
        answers = [t["tanggapan"] for t in record.get("tanggapans", [])]
        assert answers.count("Lokasi sudah ditinjau.") == 1, (record["id"], answers)
    assert desk["status"] == front["status"]  # LAPOR!'s status reached both
