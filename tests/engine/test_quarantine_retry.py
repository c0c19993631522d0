"""A retry asked for in the quarantine fetches the record again, even past the cursor."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bridge.errors import RemoteRejected
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.sync import Route, run_cycle
from tests.conftest import ODD_DATE, reading_dmy
from tests.engine.conftest import door_of, door_record, hub_of, make_route


def _route(ledger: Ledger, mapping: Path) -> Route:
    return make_route(ledger, feed="cursor", source_mapping=mapping)


def _fixed(mapping: Path, tmp_path: Path) -> Path:
    fixed = tmp_path / "fixed.toml"
    fixed.write_text(reading_dmy(mapping.read_text(encoding="utf-8")), encoding="utf-8")
    return fixed


def test_a_requested_retry_heals_a_record_the_cursor_has_passed(
    ledger: Ledger, cursor_mapping: Path, tmp_path: Path
) -> None:
    """The source will not list the record again; the retry fetches it by id and delivers it."""
    route = _route(ledger, cursor_mapping)
    door_of(route).put(door_record(1, tanggal=ODD_DATE, updated_at="2026-03-01T10:00:00+00:00"))
    door_of(route).put(door_record(2, updated_at="2026-03-02T10:00:00+00:00"))
    run_cycle(route)
    assert [q.source_id for q in ledger.quarantine.listed()] == ["1"]

    fixed = dataclasses.replace(
        route, source_mapping=load_mapping(_fixed(cursor_mapping, tmp_path))
    )
    assert run_cycle(fixed).counts["create"] == 0  # the cursor is past record 1: not listed

    (item,) = ledger.quarantine.request_retry(route="door-to-hub")
    assert item.retry_requested_at is not None
    report = run_cycle(fixed)

    assert report.counts["create"] == 1
    assert ledger.quarantine.listed() == []
    assert len(hub_of(route).records()) == 2
    assert run_cycle(fixed).counts["create"] == 0  # and only once


def test_a_retry_that_fails_again_counts_an_attempt_and_clears_the_request(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    route = _route(ledger, cursor_mapping)
    door_of(route).put(door_record(1, tanggal=ODD_DATE))
    run_cycle(route)
    ledger.quarantine.request_retry(route="door-to-hub")

    run_cycle(route)

    (item,) = ledger.quarantine.listed()
    assert item.attempts == 2
    assert item.retry_requested_at is None
    assert "cannot read" in item.reason
    assert ledger.quarantine.to_retry("door-to-hub", "door") == []


def test_a_dry_run_does_not_consume_a_retry_request(ledger: Ledger, cursor_mapping: Path) -> None:
    route = _route(ledger, cursor_mapping)
    door_of(route).put(door_record(1, tanggal=ODD_DATE))
    run_cycle(route)
    ledger.quarantine.request_retry(route="door-to-hub")
    run_cycle(route, dry_run=True)
    assert ledger.quarantine.to_retry("door-to-hub", "door") == ["1"]


def test_an_unchanged_record_set_aside_is_not_tried_every_cycle(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """A record the hub refuses costs one create, not one per cycle; a change brings it back."""
    route = _route(ledger, cursor_mapping)
    door_of(route).put(door_record(1))
    hub_of(route).fail_next(1, RemoteRejected("hub: HTTP 422: bad"), operations=("create",))
    run_cycle(route)
    assert [q.attempts for q in ledger.quarantine.listed()] == [1]

    for _ in range(3):
        report = run_cycle(route)
        assert report.counts["create"] == 0 and report.counts["skip"] == 1
    assert [q.attempts for q in ledger.quarantine.listed()] == [1]

    door_of(route).change("1", uraian="Ditambah keterangan lokasi.")
    assert run_cycle(route).counts["create"] == 1
    assert ledger.quarantine.listed() == []


def test_a_retry_after_a_lost_ledger_finds_the_copy_made_before_and_creates_none(
    cursor_mapping: Path, tmp_path: Path
) -> None:
    """Delivered with one ledger; the ledger is lost; the new ledger's first pass sets the
    record aside (here a date its mapping cannot read; in the chaos run, a duplicate held for
    a person). Released later, it is looked up in the target first: its copy is there."""
    fixed = load_mapping(_fixed(cursor_mapping, tmp_path))
    first = Ledger.open(f"sqlite:///{tmp_path / 'first.db'}")
    delivered = dataclasses.replace(_route(first, cursor_mapping), source_mapping=fixed)
    door_of(delivered).put(door_record(1, tanggal=ODD_DATE))
    assert run_cycle(delivered).counts["create"] == 1
    first.close()

    ledger = Ledger.open(f"sqlite:///{tmp_path / 'replacement.db'}")
    route = _route(ledger, cursor_mapping)
    run_cycle(route)  # the first pass in the new ledger: the record is set aside
    assert [q.source_id for q in ledger.quarantine.listed()] == ["1"]
    assert route.memory.adopted()  # the first pass is over: creates no longer search

    ledger.quarantine.request_retry(route="door-to-hub")
    report = run_cycle(dataclasses.replace(route, source_mapping=fixed))

    assert report.counts["create"] == 0
    assert len(hub_of(route).records()) == 1  # linked to the copy made before, not doubled
    assert ledger.quarantine.listed() == []
    ledger.close()
