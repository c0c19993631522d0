"""System names in the ledger: counting them, and renaming one in every table at once."""

from __future__ import annotations

import pytest

from bridge.ledger import Ledger, SystemNameTaken
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, linked, ref_of


def test_linked_systems_counts_links_per_system(ledger: Ledger) -> None:
    assert ledger.linked_systems() == {}
    linked(ledger, 1, 2, 3)
    assert ledger.linked_systems() == {SOURCE: 3, TARGET: 3}


def test_a_renamed_system_keeps_every_link_cursor_and_record_set_aside(ledger: Ledger) -> None:
    linked(ledger, 1, 2)
    ledger.set_cursor(ROUTE, SOURCE, "2026-03-01T00:00:00+00:00")
    ledger.set_aside(ROUTE, SOURCE, "9", "cannot read tanggal", "tanggal", "{}")
    ledger.flag_for_review(ROUTE, ref_of(1), SOURCE, "status", "unknown raw status", {})

    changed = ledger.rename_system(SOURCE, "sidumas-badung")

    assert changed["link.system"] == 2
    assert changed["complaint.origin_system"] == 2
    assert ledger.linked_systems() == {"sidumas-badung": 2, TARGET: 2}
    link = ledger.link_of(ref_of(1), "sidumas-badung")
    assert link is not None and link.remote_id == "1"
    assert set(ledger.links_for("sidumas-badung", ["1", "2"])) == {"1", "2"}
    assert ledger.links_for(SOURCE, ["1", "2"]) == {}
    assert ledger.get_cursor(ROUTE, "sidumas-badung") == "2026-03-01T00:00:00+00:00"
    assert ledger.get_cursor(ROUTE, SOURCE) is None
    assert [q.system for q in ledger.quarantined()] == ["sidumas-badung"]
    assert [r.system for r in ledger.reviews()] == ["sidumas-badung"]
    (trace,) = ledger.find(ref_of(1))
    assert trace.origin_system == "sidumas-badung"


def test_a_name_that_already_holds_records_is_refused_and_nothing_changes(
    ledger: Ledger,
) -> None:
    linked(ledger, 1)
    with pytest.raises(SystemNameTaken, match="already holds 1 row"):
        ledger.rename_system(SOURCE, TARGET)
    assert ledger.linked_systems() == {SOURCE: 1, TARGET: 1}
