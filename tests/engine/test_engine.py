"""The engine over memory connectors: exactly once, set aside, resume, privacy, cursors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.errors import RetryableError
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.model import Status, make_ref
from bridge.sync import ForwardRule, run_cycle
from tests.conftest import MAPPINGS
from tests.engine.conftest import EMAIL, NIK, PHONE, door_of, door_record, hub_of, make_route


def hub_records(route_target: object) -> list[dict[str, object]]:
    return route_target.records()  # type: ignore[attr-defined, no-any-return]


def test_every_complaint_is_created_once_and_a_second_cycle_creates_nothing(
    ledger: Ledger,
) -> None:
    """25 door complaints → 25 hub complaints; the next cycle only skips."""
    route = make_route(ledger)
    for i in range(1, 26):
        door_of(route).put(door_record(i))
    first = run_cycle(route)
    second = run_cycle(route)
    assert first.ok and first.counts["create"] == 25
    assert second.ok and second.counts == {"skip": 25}
    assert len(hub_records(route.target)) == 25


def test_created_complaint_carries_the_fields_and_the_reference(ledger: Ledger) -> None:
    """Title, text, category, location and flags arrive; the ref is stamped for find_by_ref."""
    route = make_route(ledger)
    door_of(route).put(door_record(1, hide_identitas=0))
    run_cycle(route)
    [created] = hub_records(route.target)
    assert created["title"] == "Jalan berlubang di Banjar 1"
    assert created["content"].startswith("Mohon segera")  # type: ignore[attr-defined,union-attr]
    assert created["nameUser"] == "Made Wirawan"
    assert created["_bridge_ref"] == make_ref("door", "1")
    assert ledger.links.of(make_ref("door", "1"), "hub") is not None


def test_anonymous_complaint_arrives_without_the_reporters_identity(ledger: Ledger) -> None:
    """hide_identitas=1 → no name, NIK, phone or e-mail reaches the hub."""
    route = make_route(ledger)
    door_of(route).put(door_record(1, hide_identitas=1))
    run_cycle(route)
    [created] = hub_records(route.target)
    text = repr(created)
    for personal in ("Made Wirawan", NIK, PHONE, EMAIL):
        assert personal not in text
    assert created["is_anonymous"] in (1, True)


def test_confidential_complaint_is_withheld_from_a_target_not_cleared_for_it(
    ledger: Ledger,
) -> None:
    """hide_pengaduan=1 is not copied unless the target has receives_confidential."""
    route = make_route(ledger)
    door_of(route).put(door_record(1, hide_pengaduan=1))
    report = run_cycle(route)
    assert report.counts["withhold"] == 1
    assert hub_records(route.target) == []


def test_confidential_complaint_reaches_a_target_cleared_for_it(ledger: Ledger) -> None:
    """With receives_confidential the rahasia complaint is created, flagged secret."""
    route = make_route(ledger, target_confidential=True)
    door_of(route).put(door_record(1, hide_pengaduan=1))
    run_cycle(route)
    [created] = hub_records(route.target)
    assert created["is_secret"] in (1, True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"topik": ""}, "title"),
        ({"tanggal": "31-31-2026 99:00"}, "created_at"),
        ({"kategori_id": 999}, "category"),
    ],
)
def test_a_bad_record_is_set_aside_with_its_reason_and_the_rest_flow(
    ledger: Ledger, change: dict[str, object], field: str
) -> None:
    """Missing required field, unreadable date, unknown category: set aside, others created."""
    route = make_route(ledger)
    for i in range(1, 6):
        door_of(route).put(door_record(i, **(change if i == 3 else {})))
    report = run_cycle(route)
    assert report.ok
    assert report.counts["create"] == 4 and report.counts["set_aside"] == 1
    [held] = ledger.quarantine.listed("door-to-hub")
    assert held.source_id == "3" and held.field == field and held.reason
    assert NIK not in held.record_json and EMAIL not in held.record_json


def test_a_fixed_record_leaves_the_quarantine_when_it_goes_through(ledger: Ledger) -> None:
    """Once the door fixes the record, the next cycle creates it and releases it."""
    route = make_route(ledger)
    door_of(route).put(door_record(1, topik=""))
    run_cycle(route)
    door_of(route).put(door_record(1))
    report = run_cycle(route)
    assert report.counts["create"] == 1
    assert ledger.quarantine.listed("door-to-hub") == []


def test_a_lost_create_response_is_adopted_not_created_twice(ledger: Ledger) -> None:
    """The hub stored the complaint but the answer was lost: the next cycle finds it by ref."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    hub_of(route).drop_response_after_create = True
    failed = run_cycle(route)
    assert failed.counts["unconfirmed"] == 1
    hub_of(route).drop_response_after_create = False
    healed = run_cycle(route)
    assert healed.counts["link"] == 1
    assert hub_of(route).creates == 1
    assert len(hub_records(route.target)) == 1


def test_a_crash_between_create_and_ledger_commit_leaves_one_complaint(
    tmp_path: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the remote create, before the commit; a restart adopts it."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))

    class ProcessDied(BaseException):
        """Stands for SIGKILL: nothing after it runs, not even except-blocks for Exception."""

    def die(*_args: object, **_kwargs: object) -> None:
        raise ProcessDied

    monkeypatch.setattr(ledger.cycles, "complete_page", die)
    with pytest.raises(ProcessDied):
        run_cycle(route)
    restarted = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        report = run_cycle(make_route(restarted))
    finally:
        restarted.close()
    assert report.counts["link"] == 1
    assert len(hub_records(route.target)) == 1


def test_a_failing_target_keeps_what_was_done_and_moves_no_cursor(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """A create that fails is owed to the next cycle; the others go now, the cursor waits."""
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    for i in range(1, 6):
        door_of(route).put(door_record(i, updated_at=f"2026-03-01T10:00:0{i}+08:00"))
    hub_of(route).fail_next(1, RetryableError("hub down"), operations=("create",))
    # The first create fails: the four others are delivered, the cursor does not move.
    first = run_cycle(route)
    assert first.ok and first.counts["unconfirmed"] == 1 and first.counts["create"] == 4
    assert ledger.cycles.cursor("door-to-hub", "door") is None
    second = run_cycle(route)
    assert second.ok and second.counts["create"] + second.counts["link"] == 1
    assert ledger.cycles.cursor("door-to-hub", "door") is not None
    assert len(hub_records(route.target)) == 5


def test_pages_progress_even_when_a_later_page_keeps_failing(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """Page 1 commits its links and cursor even though page 2 fails every time."""
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping, page_size=2)
    for i in range(1, 5):
        door_of(route).put(door_record(i, updated_at=f"2026-03-01T10:00:0{i}+08:00"))
    calls = {"n": 0}
    real_create = route.target.create

    def create_failing_on_third(*args: object, **kwargs: object) -> str:
        calls["n"] += 1
        if calls["n"] >= 3:
            raise RetryableError("hub timed out")
        return real_create(*args, **kwargs)  # type: ignore[arg-type]

    route.target.create = create_failing_on_third  # type: ignore[method-assign]
    report = run_cycle(route)
    assert report.counts["unconfirmed"] == 2 and report.counts["create"] == 2
    cursor = ledger.cycles.cursor("door-to-hub", "door")
    assert cursor is not None
    assert datetime.fromisoformat(cursor) == datetime(2026, 3, 1, 2, 0, 2, tzinfo=UTC)


def test_a_late_committed_row_inside_the_lookback_is_still_carried(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """A row whose updated_at is older than the cursor (committed late) is not skipped."""
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    door_of(route).put(door_record(1, updated_at="2026-03-01T10:05:00+08:00"))
    run_cycle(route)
    door_of(route).put(door_record(2, updated_at="2026-03-01T10:04:00+08:00"))
    report = run_cycle(route)
    assert report.counts["create"] == 1 and report.counts["skip"] == 1
    assert len(hub_records(route.target)) == 2


def test_the_cursor_never_moves_backwards(ledger: Ledger, cursor_mapping: Path) -> None:
    """Timestamps going backwards in the source never rewind the stored cursor."""
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    door_of(route).put(door_record(1, updated_at="2026-03-01T10:05:00+08:00"))
    run_cycle(route)
    before = ledger.cycles.cursor("door-to-hub", "door")
    door_of(route).put(door_record(2, updated_at="2026-03-01T10:00:00+08:00"))
    run_cycle(route)
    assert ledger.cycles.cursor("door-to-hub", "door") == before


def test_a_scanned_source_that_suddenly_lists_nothing_stops_the_route(ledger: Ledger) -> None:
    """An empty listing after records were linked is an error, not 'nothing there'."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    run_cycle(route)
    type(route.source).store("door").records.clear()  # type: ignore[attr-defined]
    report = run_cycle(route)
    assert not report.ok and "SourceEmpty" in (report.error or "")


def test_a_failed_read_is_not_taken_for_an_empty_source(ledger: Ledger) -> None:
    """A pull that raises ends the cycle with an error and records nothing."""
    route = make_route(ledger)
    door_of(route).fail_next(1, RetryableError("door unreachable"), operations=("pull",))
    report = run_cycle(route)
    assert not report.ok and "door unreachable" in (report.error or "")


def test_duplicate_ids_in_one_pull_create_once(ledger: Ledger) -> None:
    """A system listing the same id twice does not get two hub complaints."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    original_pull = route.source.pull

    def pull_twice(since: object = None):  # type: ignore[no-untyped-def]
        for page in original_pull(since):  # type: ignore[arg-type]
            yield page + page

    route.source.pull = pull_twice  # type: ignore[method-assign]
    report = run_cycle(route)
    assert report.counts["create"] == 1 and report.counts["skip"] == 1
    assert len(hub_records(route.target)) == 1


def test_a_dry_run_plans_exactly_and_writes_nothing_anywhere(ledger: Ledger) -> None:
    """--dry-run reports create/set aside/withhold and leaves hub and ledger untouched."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    door_of(route).put(door_record(2, topik=""))
    door_of(route).put(door_record(3, hide_pengaduan=1))
    report = run_cycle(route, dry_run=True)
    assert report.counts == {"create": 1, "set_aside": 1, "withhold": 1}
    assert hub_records(route.target) == []
    assert ledger.quarantine.listed() == []
    assert ledger.cycles.routes() == []
    real = run_cycle(route)
    assert real.counts["create"] == report.counts["create"]


def test_a_changed_linked_record_is_noted_not_recreated(ledger: Ledger) -> None:
    """Editing a delivered complaint updates the ledger's hash; no second create."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    run_cycle(route)
    door_of(route).put(door_record(1, uraian="Sudah makin parah."))
    changed = run_cycle(route)
    again = run_cycle(route)
    assert changed.counts["change"] == 1
    assert again.counts == {"skip": 1}
    assert len(hub_records(route.target)) == 1


def test_a_target_that_takes_no_new_complaints_gets_no_create(ledger: Ledger) -> None:
    """A read-only target (can_create False) is never asked to create; records are skipped."""
    route = make_route(ledger)
    route.target.can_create = False
    door_of(route).put(door_record(1))
    report = run_cycle(route)
    assert report.ok and report.counts == {"skip": 1}
    assert hub_records(route.target) == []


def test_an_unconfirmed_create_into_a_target_that_cannot_search_is_set_aside(
    ledger: Ledger,
) -> None:
    """A lost create into a target without find_by_ref is neither re-sent nor dropped."""
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    hub_of(route).drop_response_after_create = True
    run_cycle(route)
    hub_of(route).drop_response_after_create = False
    route.target.can_find_by_ref = False
    report = run_cycle(route)
    assert report.ok and report.counts["set_aside"] == 1
    assert hub_of(route).creates == 1
    [held] = ledger.quarantine.listed("door-to-hub")
    assert "check hub by hand" in held.reason


def test_a_complaint_the_door_rejects_is_forwarded_once_not_written_as_a_status(
    ledger: Ledger,
) -> None:
    """Bukan Wewenang: the door's "Ditolak" forwards the hub's copy once; later cycles are quiet."""
    route = replace(
        make_route(ledger), forward=ForwardRule(Status.REJECTED, "1002", "Bukan wewenang")
    )
    door_of(route).put(door_record(1))
    run_cycle(route)
    door_of(route).put(door_record(1, status=4, status_pengaduan="Ditolak"))
    forwarded = run_cycle(route)
    quiet = run_cycle(route)
    [copy] = hub_records(route.target)
    assert forwarded.counts["forward"] == 1
    assert copy["_forwarded_to"] == "1002"
    assert "forward" not in quiet.counts
    state = ledger.statuses.of([make_ref("door", "1")])[make_ref("door", "1")]
    assert state.status == "rejected"


def test_an_unchanged_record_is_not_mapped_again_but_a_changed_one_is(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon's memo spares mapping byte-identical records; an edit is still noticed."""
    route = make_route(ledger)
    for i in range(1, 4):
        door_of(route).put(door_record(i))
    run_cycle(route)
    calls: list[str] = []
    real = route.source_mapping.to_canonical

    def counting(record: dict[str, object]) -> object:
        calls.append(str(record["id"]))
        return real(record)  # type: ignore[arg-type]

    monkeypatch.setattr(route.source_mapping, "to_canonical", counting)
    quiet = run_cycle(route)
    door_of(route).put(door_record(2, uraian="Sudah makin parah."))
    changed = run_cycle(route)
    assert quiet.counts == {"skip": 3} and calls.count("1") == 0
    assert changed.counts["change"] == 1 and calls == ["2"]


def test_a_dry_run_reports_what_the_targets_mapping_cannot_write(
    ledger: Ledger, tmp_path: Path
) -> None:
    """A complaint the target's mapping refuses is reported set aside, as the real run does."""
    strict = (MAPPINGS / "lapor.toml").read_text(encoding="utf-8")
    strict = strict.replace(
        'fields = ["title", "content", "category"]',
        'fields = ["title", "content", "category", "location.address"]',
        1,
    )
    assert "location.address" in strict
    (tmp_path / "strict-lapor.toml").write_text(strict, encoding="utf-8")
    route = replace(make_route(ledger), target_mapping=load_mapping(tmp_path / "strict-lapor.toml"))
    door_of(route).put(door_record(1))
    door_of(route).put(door_record(2, alamat=""))

    planned = run_cycle(route, dry_run=True)
    real = run_cycle(route)

    assert planned.counts == {"create": 1, "set_aside": 1}
    assert (real.counts["create"], real.counts["set_aside"]) == (1, 1)


def test_a_record_stamped_in_the_future_does_not_carry_the_cursor_away(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """A wrong clock at the source (2030) must not make every later change invisible."""
    route = make_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    door_of(route).put(door_record(1, updated_at="2030-01-01T10:00:00+00:00"))
    run_cycle(route)

    cursor = ledger.cycles.cursor(route.name, route.source.name)
    assert cursor is not None and datetime.fromisoformat(cursor) < datetime(2027, 1, 1, tzinfo=UTC)
    door_of(route).put(door_record(2, updated_at=datetime.now(UTC).isoformat()))
    assert run_cycle(route).counts["create"] == 1
