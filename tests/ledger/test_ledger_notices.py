"""Connector notices in the ledger: first and last sighting per system, aging out once unsaid."""

from __future__ import annotations

from datetime import timedelta

from bridge.ledger import Ledger
from bridge.ledger.notices import KEEP_FOR
from tests.ledger.ledger_factories import T0, Clock

NO_UPDATES = "open311: the server has no servicerequestupdates extension (HTTP 404)"
AHEAD = "pengaduan: its newest row is 7 h 0 min in the future"


def test_a_notice_keeps_its_first_sighting_and_moves_its_last(
    ledger_url: str, clock: Clock
) -> None:
    """Said again an hour later: one row, first seen at T0, last seen an hour on."""
    with Ledger.open(ledger_url, clock=clock) as ledger:
        ledger.notices.note("open311", [NO_UPDATES])
        clock.advance(timedelta(hours=1))
        ledger.notices.note("open311", [NO_UPDATES, NO_UPDATES])
        ledger.notices.note("lapor", [])
        [notice] = ledger.notices.listed()
    assert (notice.system, notice.text) == ("open311", NO_UPDATES)
    assert notice.first_seen == T0
    assert notice.last_seen == T0 + timedelta(hours=1)


def test_an_unsaid_notice_stays_a_while_then_goes_and_other_systems_keep_theirs(
    ledger_url: str, clock: Clock
) -> None:
    """A fresh connector that has not tried yet does not clear it; KEEP_FOR unsaid does."""
    with Ledger.open(ledger_url, clock=clock) as ledger:
        ledger.notices.note("open311", [NO_UPDATES])
        ledger.notices.note("pengaduan", [AHEAD])
        clock.advance(KEEP_FOR - timedelta(minutes=1))
        ledger.notices.note("open311", [])
        assert [n.system for n in ledger.notices.listed()] == ["open311", "pengaduan"]
        clock.advance(timedelta(minutes=2))
        ledger.notices.note("open311", [])
        assert [n.system for n in ledger.notices.listed()] == ["pengaduan"]
        assert [n.text for n in ledger.notices.listed(["open311"])] == []


def test_a_renamed_system_keeps_its_notices(ledger: Ledger) -> None:
    """`bridge ledger rename-system` moves notices with the rest of the system's memory."""
    ledger.notices.note("door", [AHEAD])
    ledger.systems.rename("door", "pengaduan")
    assert [(n.system, n.text) for n in ledger.notices.listed()] == [("pengaduan", AHEAD)]
