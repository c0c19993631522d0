"""SIDUMAS → LAPOR! over real HTTP on loopback, with the real config, connectors and ledger."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.privacy.identity import scrub_identity
from bridge.sync import CycleReport, build_routes, close_routes, run_cycle
from tests.simulated import Sims, hub_by_ref

pytestmark = pytest.mark.e2e


def sync_once(sims: Sims) -> CycleReport:
    config = sims.config()
    ledger = Ledger.open(config.ledger.url)
    routes = build_routes(config, ledger)
    try:
        return run_cycle(routes[0])
    finally:
        close_routes(routes)
        ledger.close()


def hub_complaints_by_ref(sims: Sims) -> dict[str, list[dict[str, Any]]]:
    return hub_by_ref(sims.hub_state.complaints.values())


def test_every_seeded_complaint_exists_exactly_once_in_lapor(sims: Sims) -> None:
    """30 SIDUMAS complaints → each in LAPOR! once (bar rahasia ones); a rerun creates none."""
    first = sync_once(sims)
    second = sync_once(sims)
    assert first.ok, first.error
    assert second.ok and second.counts.get("create", 0) == 0
    by_ref = hub_complaints_by_ref(sims)
    assert all(len(copies) == 1 for copies in by_ref.values())
    secret = {str(r["id"]) for r in sims.door_state.records if r.get("hide_pengaduan")}
    for record in sims.door_state.records:
        ref = make_ref("sidumas", str(record["id"]))
        assert (ref in by_ref) == (str(record["id"]) not in secret)
    assert len(by_ref) == 30 - len(secret) == first.counts["create"]


def test_fields_attachments_and_flags_are_carried(sims: Sims) -> None:
    """Title, text, category, location, attachments and the anonim flag reach LAPOR!."""
    sync_once(sims)
    by_ref = hub_complaints_by_ref(sims)
    with_files = 0
    for record in sims.door_state.records:
        copies = by_ref.get(make_ref("sidumas", str(record["id"])))
        if not copies:
            continue
        [hub] = copies
        assert hub["title"] == record["topik"]
        assert hub["category_id"]
        # The text, then the complaint's own date and status (lapor.toml's unsent_note).
        content, _, note = hub["content"].partition("\n\nTanggal pengaduan asli: ")
        assert "; status di sidumas: " in note
        if record["hide_identitas"]:  # anonim: text scrubbed, the place stays home (issue 11)
            assert content == scrub_identity(record["uraian"], [record["pelapor"]])
            assert "location_detail" not in hub["payload"] and "latitude" not in hub["payload"]
        else:
            assert content == record["uraian"]
            assert hub["payload"]["location_detail"] == record["alamat"]
            assert hub["payload"]["latitude"] == record["koordinat_lat"]
            assert hub["payload"]["longitude"] == record["koordinat_lng"]
        assert hub["is_anonymous"] == int(bool(record["hide_identitas"]))
        assert len(hub["attachments"]) == len(record.get("files") or [])
        with_files += bool(record.get("files"))
    assert with_files > 0, "the seed should include complaints with attachments"


def test_an_anonymous_complaint_arrives_without_the_reporters_identity(sims: Sims) -> None:
    """hide_identitas=1 → LAPOR! receives no name, phone or e-mail of the reporter."""
    sync_once(sims)
    by_ref = hub_complaints_by_ref(sims)
    anonymous = [r for r in sims.door_state.records if r.get("hide_identitas")]
    assert anonymous, "the seed should include anonymous complaints"
    for record in anonymous:
        copies = by_ref.get(make_ref("sidumas", str(record["id"])))
        if not copies:
            continue  # rahasia as well: withheld
        payload = repr(copies[0]["payload"])
        for personal in (record["pelapor"], record["telp"], record["email"], record["nik"]):
            assert str(personal) not in payload


def test_a_malformed_door_record_is_set_aside_and_the_rest_flow(sims: Sims) -> None:
    """A record without topik and one with an unknown category are set aside with reasons."""
    good = dict(sims.door_state.records[0])
    sims.door_state.upsert_raw({**good, "id": 9001, "topik": ""})
    sims.door_state.upsert_raw({**good, "id": 9002, "kategori_id": 77})
    report = sync_once(sims)
    assert report.ok
    config = sims.config()
    ledger = Ledger.open(config.ledger.url)
    try:
        held = {q.source_id: q for q in ledger.quarantine.listed("sidumas-to-lapor")}
    finally:
        ledger.close()
    assert set(held) == {"9001", "9002"}
    assert held["9001"].field == "title" and held["9002"].field == "category"
    assert Counter(line.action for line in report.lines)["create"] >= 25
