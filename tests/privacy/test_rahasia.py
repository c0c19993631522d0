"""rahasia fails closed: a missing flag, a flag learnt after linking, follow-ups and adoption."""

from __future__ import annotations

from dataclasses import replace

from bridge.connectors.memory import MemoryConnector
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.model import Complaint, Reporter
from bridge.sync import Route, run_cycle
from bridge.sync.adoption_who import conflict, who_of
from tests.backfill.conftest import backfill, door_route
from tests.conftest import MAPPINGS
from tests.engine.conftest import door_of, door_record, hub_of, make_route


def _hub_followups(route: object) -> list[dict[str, object]]:
    [record] = hub_of(route).records()  # type: ignore[arg-type]
    return list(record.get("_followups", []))


def test_a_lapor_listing_without_the_flag_reads_as_rahasia() -> None:
    """A LAPOR! record without is_secret, or with it blank, is confidential."""
    mapping = load_mapping(MAPPINGS / "lapor.toml")
    base = {"id": "1", "title": "Jalan", "content": "Rusak", "category_id": 1}
    assert mapping.to_canonical(base).is_secret is True
    assert mapping.to_canonical(base | {"is_secret": ""}).is_secret is True
    assert mapping.to_canonical(base | {"is_secret": 0}).is_secret is False


def test_a_blank_export_cell_reads_as_rahasia() -> None:
    """A blank "Tipe Laporan" cell in the LAPOR! export is confidential, not public."""
    mapping = load_mapping(MAPPINGS / "lapor-export.toml")
    row = {
        "Tracking ID": "1234567",
        "Judul Laporan": "Jalan",
        "Isi Laporan Awal": "Rusak",
        "ID Kategori": "1",
        "Tipe Laporan (Anonim/Rahasia)": "",
    }
    assert mapping.to_canonical(row).is_secret is True


def test_a_source_without_the_concept_says_so_explicitly() -> None:
    """Open311 and the PHP app have no rahasia flag: their mappings declare is_secret = false."""
    for name in ("open311.toml", "pengaduan-php.toml"):
        text = (MAPPINGS / name).read_text(encoding="utf-8")
        assert "is_secret = false" in text, name


def test_a_complaint_marked_rahasia_after_linking_stops_flowing_and_is_flagged(
    ledger: Ledger,
) -> None:
    """Once rahasia, no status or follow-up reaches a target without receives_confidential."""
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1))
    run_cycle(route)
    assert len(hub_of(route).records()) == 1
    door.change("1", hide_pengaduan=1, status=1, status_pengaduan="Proses")
    door.post_followup("1", {"tanggapan": "Pak Kadis Joko menerima suap", "nama": "Budi"})
    report = run_cycle(route)
    assert report.counts["withhold"] == 1
    assert _hub_followups(route) == []
    [flag] = ledger.reviews.listed()
    assert flag.kind == "confidential" and "receives_confidential" in flag.reason


def test_rahasia_follow_ups_go_to_lapor_marked_secret(ledger: Ledger) -> None:
    """A follow-up of a rahasia complaint is written with is_secret = 1."""
    route = make_route(ledger, target_confidential=True)
    door = door_of(route)
    door.put(door_record(1, hide_pengaduan=1))
    run_cycle(route)
    door.post_followup("1", {"tanggapan": "Sedang kami periksa", "nama": "Petugas"})
    run_cycle(route)
    [followup] = _hub_followups(route)
    assert followup["is_secret"] in (1, True)


def _hand_typed_hub(ledger: Ledger, *, is_secret: int) -> tuple[Route, MemoryConnector]:
    """door record 1, and a hub record an officer typed in with the same text."""
    route, door, hub = door_route(ledger)
    record = door_record(1)
    door.put(record)
    typed = {"title": record["topik"], "content": record["uraian"], "category_id": 1}
    hub.put({"id": "7001", **typed, "is_anonymous": 0, "is_secret": is_secret})
    return route, hub


def test_backfill_never_adopts_a_record_with_other_privacy_flags(ledger: Ledger) -> None:
    """Same text, but the hub's record is another citizen's rahasia one: set aside, not linked."""
    route, hub = _hand_typed_hub(ledger, is_secret=1)
    summary = backfill(route)
    assert summary.linked == 0 and summary.set_aside == 1
    [item] = ledger.quarantine.listed()
    assert "privacy flags" in item.reason
    assert len(hub.records()) == 1


def test_backfill_adopts_a_record_with_the_same_flags(ledger: Ledger) -> None:
    """The control: the same hand-typed record with matching flags is linked."""
    route, _ = _hand_typed_hub(ledger, is_secret=0)
    assert backfill(route).linked == 1


def test_a_same_text_record_of_another_reporter_is_a_conflict() -> None:
    """Different NIK or phone on both sides: not the same complaint; unknown parts agree."""
    mine = Complaint(source_id="1", title="t", content="c", reporter=Reporter(nik="1" * 16))
    other = mine.model_copy(update={"reporter": Reporter(nik="2" * 16)})
    unknown = mine.model_copy(update={"reporter": Reporter()})
    same_phone = mine.model_copy(update={"reporter": Reporter(phone="+62 812-3456-7890")})
    assert "another reporter" in (conflict(who_of(mine), who_of(other)) or "")
    assert conflict(who_of(mine), who_of(unknown)) is None
    phone = mine.model_copy(update={"reporter": Reporter(phone="081234567890")})
    assert conflict(who_of(phone), who_of(same_phone)) is None


def test_a_quarantine_retry_of_a_rahasia_record_is_still_withheld(ledger: Ledger) -> None:
    """A record set aside, then fixed but rahasia, is withheld on the retry, never sent."""
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1, topik=""))
    run_cycle(route)
    door.change("1", topik="Jalan rusak", hide_pengaduan=1)
    report = run_cycle(replace(route))
    assert report.counts["withhold"] == 1
    assert hub_of(route).records() == []
