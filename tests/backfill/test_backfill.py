"""run_backfill over memory connectors: window, limit, adoption, resumption, pacing, cursor."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import BackfillProgress, run_cycle
from tests.backfill.conftest import backfill, door_route, refs_in
from tests.engine.conftest import door_record


def _ref(i: int) -> str:
    return make_ref("door", str(i))


def _hand_typed(i: int, **changes: object) -> dict[str, object]:
    """A LAPOR!-shaped record an officer typed in by hand: door record i's title and text."""
    record = door_record(i)
    # LAPOR! lists both privacy flags; a record without them would read as rahasia.
    hub = {"title": record["topik"], "content": record["uraian"], "category_id": 1}
    return hub | {"is_anonymous": 0, "is_secret": 0} | changes


def test_only_complaints_created_inside_the_window_are_sent(ledger: Ledger) -> None:
    """[since, until) in the source's zone (WITA): the first instant in, the until day out."""
    route, door, hub = door_route(ledger)
    stamps = {
        1: "2026-01-31 23:59:59",  # before
        2: "2026-02-01 00:00:00",  # first instant of --since
        3: "2026-02-15 12:00:00",
        4: "2026-02-28 23:59:59",  # last instant before --until
        5: "2026-03-01 00:00:00",  # --until is not included
    }
    for i, stamp in stamps.items():
        door.put(door_record(i, tanggal=stamp))

    summary = backfill(route, since=date(2026, 2, 1), until=date(2026, 3, 1))

    assert summary.ok and summary.created == 3
    assert sorted(refs_in(hub)) == sorted(_ref(i) for i in (2, 3, 4))
    assert summary.total_in_window == 3


def test_limit_stops_after_n_and_reruns_carry_on_until_all_are_sent_once(ledger: Ledger) -> None:
    """--limit 4 over 10 complaints: 4, 4, then 2; every complaint exactly once in the end."""
    route, door, hub = door_route(ledger, page_size=3)
    for i in range(1, 11):
        door.put(door_record(i))

    runs = [backfill(route, limit=4) for _ in range(3)]

    assert [r.created for r in runs] == [4, 4, 2]
    assert [r.already_linked for r in runs] == [0, 4, 8]
    assert [r.total_in_window for r in runs] == [4, 8, 10]
    assert Counter(refs_in(hub)) == Counter(_ref(i) for i in range(1, 11))


def test_a_dry_run_plans_what_the_real_run_then_does_and_writes_nothing(ledger: Ledger) -> None:
    """Dry run: would create / link / set aside / withhold; the real run's numbers are the same."""
    route, door, hub = door_route(ledger)
    for i in range(1, 8):
        door.put(door_record(i))
    door.put(door_record(8, topik=""))
    door.put(door_record(9, hide_pengaduan=1))
    hub.put({"id": "7001", **_hand_typed(2)})
    hub.put({"id": "7002", **_hand_typed(99, tags_raw=f"#{_ref(3)}")})

    dry = backfill(route, dry_run=True)

    assert (dry.created, dry.linked, dry.set_aside, dry.withheld) == (5, 2, 1, 1)
    assert dry.linked_by == Counter({"same_text": 1, "ref": 1})
    assert sum(dry.set_aside_reasons.values()) == 1
    assert hub.creates == 0 and ledger.links.count("door") == 0
    real = backfill(route)
    assert (real.created, real.linked, real.set_aside, real.withheld) == (5, 2, 1, 1)
    assert real.set_aside_reasons == dry.set_aside_reasons
    assert ledger.links.by_remote("hub", ["7001", "7002"]).keys() == {"7001", "7002"}
    again = backfill(route)
    assert (again.created, again.linked, again.already_linked) == (0, 0, 7)


def test_two_identical_complaints_adopt_one_hand_typed_record_and_create_the_other(
    ledger: Ledger,
) -> None:
    """A target record is adopted once: the second identical complaint is created, not merged."""
    route, door, hub = door_route(ledger)
    door.put(door_record(1))
    door.put(door_record(2, topik=door_record(1)["topik"]))
    hub.put({"id": "7001", **_hand_typed(1)})

    summary = backfill(route)

    assert summary.ok, summary.error
    assert (summary.created, summary.linked) == (1, 1)


def test_an_interrupted_backfill_keeps_its_pages_and_a_rerun_finishes_it(ledger: Ledger) -> None:
    """Ctrl-C after the first page: interrupted, that page kept; the rerun sends the rest once."""
    route, door, hub = door_route(ledger, page_size=3)
    for i in range(1, 10):
        door.put(door_record(i))

    def interrupt(_: BackfillProgress) -> None:
        raise KeyboardInterrupt

    stopped = backfill(route, progress=interrupt)
    rerun = backfill(route)

    assert stopped.interrupted and stopped.created == 3
    assert not rerun.interrupted and (rerun.created, rerun.already_linked) == (6, 3)
    assert Counter(refs_in(hub)) == Counter(_ref(i) for i in range(1, 10))


def test_an_interrupted_backfill_finishes_its_cycle_row_as_failed_interrupted(
    ledger: Ledger,
) -> None:
    """Ctrl-C from the progress callback: no cycle left running; the rerun sends the rest once."""
    route, door, hub = door_route(ledger, page_size=3)
    for i in range(1, 10):
        door.put(door_record(i))

    def interrupt(_: BackfillProgress) -> None:
        raise KeyboardInterrupt

    stopped = backfill(route, progress=interrupt)
    cycle = ledger.cycles.status(route.name).last_cycle  # the interrupted run's, the only one
    rerun = backfill(route)
    last = ledger.cycles.status(route.name).last_cycle

    assert stopped.interrupted
    assert cycle is not None and cycle.finished_at is not None
    assert (cycle.ok, cycle.error, cycle.counts) == (False, "interrupted", {"create": 3})
    assert last is not None and last.run_id != cycle.run_id
    assert last.finished_at is not None and last.ok and last.error is None
    assert (rerun.created, rerun.already_linked) == (6, 3)
    assert Counter(refs_in(hub)) == Counter(_ref(i) for i in range(1, 10))


def test_an_unconfirmed_create_is_resumed_by_reference_not_sent_again(ledger: Ledger) -> None:
    """A create whose answer was lost is found by its reference on the rerun and linked."""
    route, door, hub = door_route(ledger)
    for i in range(1, 4):
        door.put(door_record(i))
    hub.drop_response_after_create = True

    failed = backfill(route)
    hub.drop_response_after_create = False
    rerun = backfill(route)

    # Every answer was lost: each create is owed (the run goes on), none counted as made.
    assert failed.ok and failed.created == 0 and failed.unconfirmed == 3
    assert rerun.ok and (rerun.created, rerun.linked) == (0, 3)
    assert rerun.linked_by == Counter({"earlier_attempt": 3})
    assert Counter(refs_in(hub)) == Counter(_ref(i) for i in range(1, 4))


def test_progress_reports_done_and_total_after_each_page(ledger: Ledger) -> None:
    """Progress after every page: done grows to the counting pass's total."""
    route, door, _ = door_route(ledger, page_size=2)
    for i in range(1, 6):
        door.put(door_record(i))
    seen: list[tuple[int, int]] = []

    backfill(route, progress=lambda p: seen.append((p.done, p.total)))

    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_the_rate_limit_waits_between_creates_with_the_injected_sleep(ledger: Ledger) -> None:
    """--rate 2/s: the first create goes at once, each next one waits half a second."""
    route, door, _ = door_route(ledger)
    for i in range(1, 6):
        door.put(door_record(i))
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    summary = backfill(route, rate=2.0, sleep=sleep, clock=lambda: now[0])

    assert summary.created == 5
    assert waits == [pytest.approx(0.5)] * 4


def test_a_backfill_leaves_the_daemons_cursor_where_it_was(
    ledger: Ledger, cursor_mapping: Path
) -> None:
    """Cursor source: a backfill starts at its window and never moves the stored cursor."""
    route, door, _ = door_route(ledger, feed="cursor", source_mapping=cursor_mapping)
    door.put(door_record(1, updated_at="2026-05-01T10:00:00+08:00"))
    assert run_cycle(route).ok
    cursor = ledger.cycles.cursor(route.name, "door")
    door.put(door_record(2, tanggal="2024-02-01 09:00:00", updated_at="2024-02-01T09:00:00+08:00"))

    summary = backfill(route)

    assert summary.created == 1 and summary.already_linked == 1
    assert cursor is not None and ledger.cycles.cursor(route.name, "door") == cursor


def test_bad_arguments_are_refused_before_anything_is_read(ledger: Ledger) -> None:
    """--until not after --since, --limit 0 and --rate 0 are each named in one error."""
    from bridge.errors import ConfigError

    with pytest.raises(ConfigError) as raised:
        backfill(door_route(ledger)[0], until=date(2022, 1, 1), limit=0, rate=0.0)

    assert len(raised.value.problems) == 3
