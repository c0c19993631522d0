"""The dry run and the real run share one decision path (issue 16).

Both take ``bridge.sync.plan``'s actions as they are: the dry run prints them through
``bridge.sync.report.line_for``, the real run carries them out. So a case the planner
learns appears in both without a second edit, and a dry run says what the run does.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bridge.ledger import Ledger
from bridge.sync import CycleReport, run_cycle
from bridge.sync import plan as planner
from bridge.sync.facts import Facts, Observation
from bridge.sync.plan import Action, ToTarget, Withhold
from tests.engine.conftest import door_of, door_record, hub_of, make_route


def _lines(report: CycleReport) -> list[tuple[str, str, str | None]]:
    """What a report says per record; a real create's target id is what a dry run cannot know."""
    return sorted((line.action, line.source_id, line.reason) for line in report.lines)


def test_a_dry_run_reports_every_planned_case_as_the_real_run_carries_it_out(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Create, link to a copy found by reference, quarantine, withhold: the same lines."""
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1))
    door.put(door_record(2, topik=""))  # unreadable: quarantined
    door.put(door_record(3, hide_pengaduan=1))  # rahasia, target not cleared: withheld
    run_cycle(route)  # 1 is created in the hub ...
    fresh = Ledger.open(f"sqlite:///{tmp_path / 'new-ledger.db'}")  # ... which a new ledger
    try:  # does not know: its first pass finds it by reference and links it
        again = replace(route, ledger=fresh, memo={})
        door.put(door_record(4))  # new: created

        planned = run_cycle(again, dry_run=True)
        real = run_cycle(again)
    finally:
        fresh.close()

    assert planned.ok and real.ok
    assert _lines(planned) == _lines(real)
    assert sorted((line.action, line.source_id) for line in real.lines) == [
        ("create", "4"),
        ("link", "1"),
        ("set_aside", "2"),
        ("withhold", "3"),
    ]
    assert len(hub_of(route).records()) == 2


def test_a_new_planner_case_appears_in_the_dry_run_and_the_real_run_alike(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case added to the planner alone (here: hold back complaints about Banjar 2) shows
    up in both runs, with no edit to the dry run or to the acting code."""
    decide = planner._decide

    def with_a_new_case(
        observation: Observation, facts: Facts, seen: set[str]
    ) -> Action | ToTarget:
        complaint = observation.complaint
        if complaint is not None and complaint.title.endswith("Banjar 2"):
            return Withhold(observation.source_id, "a new case: held back for the test")
        return decide(observation, facts, seen)

    monkeypatch.setattr(planner, "_decide", with_a_new_case)
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    door_of(route).put(door_record(2))

    planned = run_cycle(route, dry_run=True)
    real = run_cycle(route)

    expected = ("withhold", "2", "a new case: held back for the test")
    assert expected in _lines(planned) and expected in _lines(real)
    assert _lines(planned) == _lines(real)
    assert [line.source_id for line in real.lines if line.action == "create"] == ["1"]
    assert len(hub_of(route).records()) == 1
