"""System names in the ledger: counting them, and renaming one in every table at once."""

from __future__ import annotations

import pytest

from bridge.ledger import Ledger, SystemNameTaken
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, linked, ref_of


def test_linked_systems_counts_links_per_system(ledger: Ledger) -> None:
    assert ledger.systems.linked() == {}
    linked(ledger, 1, 2, 3)
    assert ledger.systems.linked() == {SOURCE: 3, TARGET: 3}


def test_a_renamed_system_keeps_every_link_cursor_and_record_set_aside(ledger: Ledger) -> None:
    linked(ledger, 1, 2)
    ledger.cycles.set_cursor(ROUTE, SOURCE, "2026-03-01T00:00:00+00:00")
    ledger.quarantine.add(ROUTE, SOURCE, "9", "cannot read tanggal", "tanggal", "{}")
    ledger.reviews.flag(ROUTE, ref_of(1), SOURCE, "status", "unknown raw status", {})

    changed = ledger.systems.rename(SOURCE, "sidumas-badung")

    assert changed["link.system"] == 2
    assert changed["complaint.origin_system"] == 2
    assert ledger.systems.linked() == {"sidumas-badung": 2, TARGET: 2}
    link = ledger.links.of(ref_of(1), "sidumas-badung")
    assert link is not None and link.remote_id == "1"
    assert set(ledger.links.by_remote("sidumas-badung", ["1", "2"])) == {"1", "2"}
    assert ledger.links.by_remote(SOURCE, ["1", "2"]) == {}
    assert ledger.cycles.cursor(ROUTE, "sidumas-badung") == "2026-03-01T00:00:00+00:00"
    assert ledger.cycles.cursor(ROUTE, SOURCE) is None
    assert [q.system for q in ledger.quarantine.listed()] == ["sidumas-badung"]
    assert [r.system for r in ledger.reviews.listed()] == ["sidumas-badung"]
    (trace,) = ledger.history.find(ref_of(1))
    assert trace.origin_system == "sidumas-badung"


def test_a_name_that_already_holds_records_is_refused_and_nothing_changes(
    ledger: Ledger,
) -> None:
    linked(ledger, 1)
    with pytest.raises(SystemNameTaken, match="already holds 1 row"):
        ledger.systems.rename(SOURCE, TARGET)
    assert ledger.systems.linked() == {SOURCE: 1, TARGET: 1}
