"""Status with its time and setter, conflict decisions, and review flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.ledger import Ledger, LedgerConflict
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, RowCounts, linked, ref_of

REF = ref_of(1)
WIB = timezone(timedelta(hours=7), "WIB")
AT = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)


@pytest.fixture
def one(ledger: Ledger) -> Ledger:
    """A ledger holding complaint 1, linked in SIDUMAS and LAPOR!."""
    linked(ledger, 1)
    return ledger


def test_record_status_sets_state_link_raw_and_history(one: Ledger) -> None:
    """The status, its time and setter are kept; the written-to link gets the raw values."""
    one.statuses.record(
        ROUTE,
        REF,
        status="in_progress",
        at=AT,
        system=SOURCE,
        written_to=TARGET,
        raw_code="3",
        raw_label="Dalam Proses",
        note="forwarded",
    )

    state = one.statuses.of([REF])[REF]
    assert (state.status, state.status_system) == ("in_progress", SOURCE)
    assert state.status_at == AT
    assert state.status_at is not None and state.status_at.tzinfo is UTC
    target = one.links.of(REF, TARGET)
    assert target is not None
    assert (target.raw_status_code, target.raw_status_label) == ("3", "Dalam Proses")
    source = one.links.of(REF, SOURCE)
    assert source is not None
    assert (source.raw_status_code, source.raw_status_label) == ("0", "Baru")
    (trace,) = one.history.find(REF)
    assert (trace.status, trace.status_at, trace.status_system) == ("in_progress", AT, SOURCE)
    event = trace.events[-1]
    assert (event.kind, event.route, event.system) == ("status.changed", ROUTE, SOURCE)
    assert event.data() == {
        "old": "new",
        "new": "in_progress",
        "at": AT.isoformat(),
        "system": SOURCE,
        "written_to": TARGET,
        "note": "forwarded",
    }


def test_record_status_without_a_write_leaves_the_links(one: Ledger) -> None:
    """A status only observed (written nowhere) changes no link."""
    before = one.links.of(REF, TARGET)
    one.statuses.record(ROUTE, REF, status="verified", at=AT, system=TARGET)

    after = one.links.of(REF, TARGET)
    assert before is not None and after is not None
    assert (after.raw_status_code, after.updated_at) == (before.raw_status_code, before.updated_at)
    assert one.statuses.of([REF])[REF].status_system == TARGET


def test_a_retried_record_status_is_one_history_line(one: Ledger, row_counts: RowCounts) -> None:
    """The same change recorded twice (one instant, two zones) adds one event."""
    one.statuses.record(ROUTE, REF, status="verified", at=AT, system=SOURCE)
    before = row_counts()["event"]
    one.statuses.record(ROUTE, REF, status="verified", at=AT.astimezone(UTC), system=SOURCE)

    assert row_counts()["event"] == before


def test_record_status_needs_an_aware_time_and_a_known_ref(one: Ledger) -> None:
    """A naive time is refused rather than guessed; an unknown complaint is a conflict."""
    with pytest.raises(ValueError, match="aware"):
        one.statuses.record(ROUTE, REF, status="verified", at=datetime(2026, 3, 2), system=SOURCE)
    with pytest.raises(LedgerConflict):
        one.statuses.record(ROUTE, "lb-unknown", status="verified", at=AT, system=SOURCE)


def test_complaint_states_answers_known_refs_in_one_call(ledger: Ledger) -> None:
    """States come back for known refs only, never-set status as None."""
    linked(ledger, 1, 2)
    ledger.statuses.record(ROUTE, ref_of(2), status="closed", at=AT, system=TARGET)

    states = ledger.statuses.of([ref_of(1), ref_of(2), "lb-unknown"])
    assert set(states) == {ref_of(1), ref_of(2)}
    first = states[ref_of(1)]
    assert (first.ref, first.status, first.status_at, first.status_system) == (
        ref_of(1),
        "new",
        None,
        None,
    )
    assert first.created_at.tzinfo is UTC
    assert (states[ref_of(2)].status, states[ref_of(2)].status_at) == ("closed", AT)


def test_record_decision_shows_in_the_trace_once(one: Ledger) -> None:
    """A decision is a history line with its detail; the same decision again adds none."""
    detail = {"system": TARGET, "observed": "new", "kept": "in_progress", "why": "older"}
    one.history.record_decision(ROUTE, REF, "status.ignored", detail)
    one.history.record_decision(ROUTE, REF, "status.ignored", detail)
    one.history.record_decision(ROUTE, REF, "conflict.resolved", {"winner": SOURCE})

    (trace,) = one.history.find(REF)
    decisions = [e for e in trace.events if e.kind in {"status.ignored", "conflict.resolved"}]
    assert [e.kind for e in decisions] == ["status.ignored", "conflict.resolved"]
    assert decisions[0].data() == detail
    assert (decisions[0].route, decisions[0].system) == (ROUTE, TARGET)
    assert decisions[1].system is None


def test_flag_for_review_upserts_and_counts(one: Ledger, row_counts: RowCounts) -> None:
    """A flag raised again is one row with a count and the latest reason; one history line."""
    one.reviews.flag(ROUTE, REF, TARGET, "status", "unknown raw status 9", {"raw_code": "9"})
    one.reviews.flag(ROUTE, REF, TARGET, "status", "unknown raw status 9!", {"raw_code": "9"})
    one.reviews.flag(ROUTE, REF, TARGET, "transition", "closed → new refused", {})

    assert row_counts()["review"] == 2
    first, second = one.reviews.listed(ROUTE)
    assert (first.kind, first.count, first.reason) == ("status", 2, "unknown raw status 9!")
    assert first.data() == {"raw_code": "9"}
    assert first.first_seen <= first.last_seen
    assert (second.kind, second.count, second.resolved) == ("transition", 1, False)
    (trace,) = one.history.find(REF)
    assert [e.kind for e in trace.events].count("review.flagged") == 2
    assert one.cycles.status(ROUTE).reviews == 2


def test_resolve_review_closes_the_flag_until_it_comes_back(one: Ledger) -> None:
    """A resolved flag leaves the open list; raised again, it is open again with its count."""
    one.reviews.flag(ROUTE, REF, TARGET, "status", "unknown raw status 9", {})
    one.reviews.flag("other", REF, TARGET, "status", "unknown raw status 9", {})
    one.reviews.resolve(ROUTE, REF, TARGET, "status")
    one.reviews.resolve(ROUTE, REF, TARGET, "status")  # twice is once

    assert one.reviews.listed(ROUTE) == []
    (closed,) = one.reviews.listed(ROUTE, include_resolved=True)
    assert closed.resolved is True
    assert [r.route for r in one.reviews.listed()] == ["other"]
    assert one.cycles.status(ROUTE).reviews == 0

    one.reviews.flag(ROUTE, REF, TARGET, "status", "unknown raw status 9", {})
    (again,) = one.reviews.listed(ROUTE)
    assert (again.count, again.resolved) == (2, False)
    (trace,) = one.history.find(REF)
    kinds = [e.kind for e in trace.events if e.kind.startswith("review.")]
    assert kinds == ["review.flagged", "review.flagged", "review.resolved", "review.flagged"]


def test_a_flag_may_name_a_complaint_the_ledger_does_not_hold(ledger: Ledger) -> None:
    """A flag about a record not (yet) in the ledger is kept, without a history line."""
    ledger.reviews.flag(ROUTE, "lb-new", SOURCE, "status", "unknown raw status", {})

    (flag,) = ledger.reviews.listed()
    assert flag.ref == "lb-new"
    assert ledger.cycles.routes() == [ROUTE]
