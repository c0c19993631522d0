"""Identity lookups and observations: history.find, links.by_remote, links.of, links.note_seen."""

from __future__ import annotations

from dataclasses import replace

from bridge.ledger import Ledger, SeenUpdate
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, digest, intent, ref_of, result


def _linked(ledger: Ledger, *numbers: int) -> None:
    ledger.creates.record_intents(ROUTE, [intent(n) for n in numbers])
    ledger.creates.complete(ROUTE, [result(n) for n in numbers])


def test_find_by_ref_source_id_or_target_id_gives_the_same_trace(ledger: Ledger) -> None:
    """A complaint is found by its ref, its SIDUMAS id or its LAPOR! tracking id alike."""
    _linked(ledger, 7)

    by_ref, by_source, by_target = (ledger.history.find(key) for key in (ref_of(7), "7", "1000007"))
    assert by_ref == by_source == by_target
    (trace,) = by_ref
    assert (trace.ref, trace.origin_system, trace.origin_id, trace.status) == (
        ref_of(7),
        SOURCE,
        "7",
        "new",
    )
    assert {(link.system, link.remote_id) for link in trace.links} == {
        (SOURCE, "7"),
        (TARGET, "1000007"),
    }


def test_history_comes_back_in_time_order(ledger: Ledger) -> None:
    """Events of a trace are ordered by time: intent, created, then what was seen later."""
    _linked(ledger, 7)
    ledger.links.note_seen(
        TARGET, [SeenUpdate("1000007", digest("verified"), "2", "Terverifikasi")]
    )

    (trace,) = ledger.history.find("1000007")
    assert [e.kind for e in trace.events] == [
        "complaint.intent",
        "complaint.created",
        "complaint.changed",
    ]
    times = [e.at for e in trace.events]
    assert times == sorted(times)
    assert trace.events[-1].data()["raw_status_label"] == "Terverifikasi"


def test_find_an_unknown_id_gives_nothing(ledger: Ledger) -> None:
    """An id the ledger never saw finds no trace."""
    _linked(ledger, 1)
    assert ledger.history.find("nope") == []


def test_links_for_looks_up_many_ids_in_batches(ledger: Ledger) -> None:
    """A batch lookup of 1,200 ids (more than one query's worth) finds exactly the known ones."""
    _linked(ledger, *range(600))

    asked = [str(1_000_000 + n) for n in range(1200)]
    found = ledger.links.by_remote(TARGET, asked)
    assert set(found) == {str(1_000_000 + n) for n in range(600)}
    assert found["1000042"].ref == ref_of(42)
    assert ledger.links.by_remote(SOURCE, ["1000042"]) == {}
    assert ledger.links.count(TARGET) == 600


def test_link_of_is_none_for_a_system_without_the_complaint(ledger: Ledger) -> None:
    """links.of answers per system; a missing link is None."""
    _linked(ledger, 1)
    assert ledger.links.of(ref_of(1), "home") is None
    assert ledger.links.of("lb-unknown", TARGET) is None


def test_note_seen_updates_the_link_and_notes_real_changes_only(ledger: Ledger) -> None:
    """An unchanged hash refreshes the link silently; a new hash adds one change event."""
    _linked(ledger, 1)
    same = SeenUpdate("1000001", result(1).target_hash, "1", "Belum Terverifikasi")
    ledger.links.note_seen(TARGET, [same, SeenUpdate("9999999", "h")])  # unknown ids are ignored
    assert [e.kind for e in ledger.history.find(ref_of(1))[0].events][-1] == "complaint.created"

    changed = SeenUpdate("1000001", digest("v2"), "2", "Dalam Proses", status="in_progress")
    ledger.links.note_seen(TARGET, [changed])
    ledger.links.note_seen(TARGET, [changed])

    (trace,) = ledger.history.find(ref_of(1))
    assert [e.kind for e in trace.events].count("complaint.changed") == 1
    assert trace.status == "in_progress"
    link = ledger.links.of(ref_of(1), TARGET)
    assert link is not None
    assert (link.last_seen_hash, link.raw_status_code, link.raw_status_label) == (
        digest("v2"),
        "2",
        "Dalam Proses",
    )
    assert link.last_written_hash == result(1).target_hash


def test_find_by_a_ticket_ignores_case_and_surrounding_spaces(ledger: Ledger) -> None:
    """A SIDUMAS ticket noted at intent time finds the complaint, typed in any case with spaces."""
    ledger.creates.record_intents(ROUTE, [replace(intent(7), ticket=" SDM-2026-000007 ")])
    ledger.creates.complete(ROUTE, [result(7)])

    (trace,) = ledger.history.find("  sdm-2026-000007\t")
    assert trace.ref == ref_of(7)
    tickets = {link.system: link.ticket for link in trace.links}
    assert tickets == {SOURCE: "SDM-2026-000007", TARGET: None}
    assert ledger.history.find("SDM-2026-000008") == []


def test_a_seen_record_fills_its_ticket_and_a_seen_record_without_one_keeps_it(
    ledger: Ledger,
) -> None:
    """note_seen remembers a LAPOR! record's ticket; a later sighting without one keeps it."""
    _linked(ledger, 3)
    ledger.links.note_seen(TARGET, [SeenUpdate("1000003", digest("v2"), ticket="lpr-1000003")])
    ledger.links.note_seen(TARGET, [SeenUpdate("1000003", digest("v3"))])

    (trace,) = ledger.history.find("LPR-1000003")
    assert trace.ref == ref_of(3)
    link = ledger.links.of(ref_of(3), TARGET)
    assert link is not None and link.ticket == "LPR-1000003"


def test_a_ticket_shown_by_several_complaints_lists_them_all(ledger: Ledger) -> None:
    """Two systems reusing one ticket number: find returns both complaints, not an arbitrary one."""
    _linked(ledger, 1, 2)
    ledger.links.note_seen(SOURCE, [SeenUpdate("1", digest("a"), ticket="T-1")])
    ledger.links.note_seen(TARGET, [SeenUpdate("1000002", digest("b"), ticket="t-1")])

    assert [t.ref for t in ledger.history.find("T-1")] == sorted([ref_of(1), ref_of(2)])


def test_a_blank_number_finds_no_complaint(ledger: Ledger) -> None:
    """A blank number is no ticket: it finds nothing, not every complaint shown without one."""
    _linked(ledger, 7)  # the target's link has no ticket

    assert ledger.history.find("") == []
    assert ledger.history.find("   ") == []
