"""anonim learnt after the copy: flagged once with the fields sent, later copies scrubbed."""

from __future__ import annotations

from pathlib import Path

from bridge.ledger import Ledger
from bridge.sync import Route, run_cycle
from bridge.sync.anonymity_gate import KIND, identity_sent
from bridge.sync.outgoing import Outgoing, outgoing
from tests.conftest import MAPPINGS
from tests.engine.conftest import EMAIL, NIK, PHONE, door_of, door_record, hub_of, make_route
from tests.privacy.test_anonim import _complaint

IDENTITY = ("Made", "Wirawan", NIK, PHONE, EMAIL, "0812", "Raya Kuta")
REPLY = {"tanggapan": "Saya Made Wirawan, hubungi 0812 3456 7890", "nama": "Made Wirawan"}


def _copied_then_anonim(ledger: Ledger, *, reply: bool = True) -> Route:
    """door record 1 copied to the hub as public, then marked anonim (and replied to)."""
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1))
    run_cycle(route)
    door.change("1", hide_identitas=1)
    if reply:
        door.post_followup("1", REPLY)
    run_cycle(route)
    return route


def _no_identity(text: str) -> None:
    for value in IDENTITY:
        assert value.lower() not in text.lower(), value


def test_a_complaint_marked_anonim_after_its_copy_is_flagged_once(ledger: Ledger) -> None:
    """Public copy, then anonim at the door: one review naming the fields sent, no value."""
    route = _copied_then_anonim(ledger)
    door_of(route).change("1", status=1, status_pengaduan="Proses")
    run_cycle(route)
    [flag] = ledger.reviews.listed()
    assert flag.kind == KIND and flag.system == "hub" and flag.count == 1
    assert "nameUser" in flag.reason and "phoneUser" in flag.reason
    assert "bridge trace" in flag.reason
    _no_identity(flag.reason + flag.detail)


def test_follow_ups_after_anonymity_is_learnt_leave_scrubbed(ledger: Ledger) -> None:
    """The citizen's reply after the flag flipped reaches the hub without name or phone."""
    route = _copied_then_anonim(ledger)
    [record] = hub_of(route).records()
    followups = record.get("_followups", [])
    assert len(followups) == 1
    _no_identity(repr(followups))


def test_a_complaint_anonymous_from_the_start_is_never_flagged(ledger: Ledger) -> None:
    """An anonim complaint sent scrubbed, then changed and replied to: no review."""
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1, hide_identitas=1))
    run_cycle(route)
    door.post_followup("1", REPLY)
    door.change("1", status=1, status_pengaduan="Proses")
    run_cycle(route)
    assert ledger.reviews.listed(include_resolved=True) == []
    [record] = hub_of(route).records()
    assert len(record.get("_followups", [])) == 1


def test_a_resolved_flag_does_not_come_back(ledger: Ledger) -> None:
    """Once a person resolved it, later cycles of the anonim complaint flag nothing again."""
    route = _copied_then_anonim(ledger, reply=False)
    [flag] = ledger.reviews.listed()
    ledger.reviews.resolve(flag.route, flag.ref, flag.system, flag.kind)
    door_of(route).change("1", status=1, status_pengaduan="Proses")
    run_cycle(route)
    assert ledger.reviews.listed() == []


def test_the_created_line_names_the_fields_that_carried_the_identity(ledger: Ledger) -> None:
    """A public copy's history names the identity fields; an anonim copy's names none."""
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1))
    door.put(door_record(2, hide_identitas=1))
    run_cycle(route)
    sent: dict[str, object] = {}
    for source_id in ("1", "2"):
        [trace] = ledger.history.find(source_id)
        [created] = [e for e in trace.events if e.kind == "complaint.created"]
        sent[source_id] = created.data().get("identity_sent", [])
        _no_identity(created.detail)
    assert isinstance(sent["1"], list)
    assert {"nameUser", "phoneUser", "emailUser"} <= set(sent["1"])
    assert sent["2"] == []


def test_identity_sent_is_empty_for_an_anonymous_copy(ledger: Ledger) -> None:
    """identity_sent of a copy that left anonymous names nothing."""
    route = make_route(ledger)
    result = outgoing(route, _complaint(), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    assert identity_sent(route, result.complaint, result.payload) == ()


def test_a_mapping_that_gains_the_anonim_column_flags_what_it_sent(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Copied while the door mapping lacked hide_identitas; mapped later: flagged once."""
    text = (MAPPINGS / "sidumas.toml").read_text(encoding="utf-8")
    # A column the door's records lack: every complaint reads as not anonymous.
    without = tmp_path / "sidumas-without-anonim.toml"
    without.write_text(
        text.replace('is_anonymous = "hide_identitas"', 'is_anonymous = "kolom_lain"'),
        encoding="utf-8",
    )
    before = make_route(ledger, source_mapping=without)
    door_of(before).put(door_record(1, hide_identitas=1))
    run_cycle(before)
    after = make_route(ledger)
    assert hub_of(after).records() == hub_of(before).records()
    door_of(after).change("1", status=1, status_pengaduan="Proses")
    run_cycle(after)
    run_cycle(after)
    [flag] = ledger.reviews.listed()
    assert flag.kind == KIND and flag.count == 1 and "nameUser" in flag.reason
    _no_identity(flag.reason + flag.detail)
