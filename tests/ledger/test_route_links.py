"""What each route last saw of a record, and its re-polls, kept per route (migration 0011).

LAPOR! is read by one route per door; a LAPOR! complaint linked to records of two doors
must reach both: a change one route saw, or a re-poll it took, is not the other's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, inspect

from bridge.ledger import CreateResult, Ledger, SeenUpdate
from bridge.ledger.route_links import due_query
from bridge.ledger.timestamps import UTCDateTime
from tests.ledger.ledger_factories import ROUTE, SOURCE, TARGET, Clock, digest, linked, ref_of
from tests.ledger.test_ledger_migrate import _fill_v0001, _migrate, engine

__all__ = ["engine"]  # the fixture

DESK = "wadesk"
TO_DOOR, TO_DESK = "lapor-to-sidumas", "lapor-to-wadesk"
ROUTES = [(ROUTE, SOURCE, TARGET), (TO_DOOR, TARGET, SOURCE), (TO_DESK, TARGET, DESK)]
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=3)


@pytest.fixture
def timed(ledger_url: str) -> Iterator[tuple[Ledger, Clock]]:
    clock = Clock(T0)
    with Ledger.open(ledger_url, clock=clock) as opened:
        yield opened, clock


def _seen(ledger: Ledger, route: str, remote_id: str, system: str = TARGET) -> str | None:
    return ledger.links.by_remote(system, [remote_id], route=route)[remote_id].last_seen_hash


def _due(ledger: Ledger, route: str, target: str, at: datetime) -> list[str]:
    found = ledger.route_links.due(route, TARGET, target, now=at, limit=10)
    return [link.remote_id for link in found]


def _join_desk(ledger: Ledger, n: int) -> None:
    """The desk's record ``n`` joins complaint ``n`` (a duplicate linked to it)."""
    joined = CreateResult(ref_of(n), DESK, f"desk-{n}", digest(f"desk {n}"), adopted=True)
    ledger.cycles.complete_page("wadesk-to-lapor", [joined])


def test_a_change_one_route_sees_is_still_new_to_the_other(
    timed: tuple[Ledger, Clock],
) -> None:
    """Both routes reading LAPOR! carry complaint 1; the first noting a change, or taking a
    re-poll, leaves the second's view and schedule as they were."""
    ledger, clock = timed
    ledger.route_links.register(ROUTES)
    linked(ledger, 1)
    _join_desk(ledger, 1)
    before = _seen(ledger, TO_DESK, "1000001")
    assert before == _seen(ledger, TO_DOOR, "1000001") == digest("target 1")
    assert _due(ledger, TO_DOOR, SOURCE, T0) == _due(ledger, TO_DESK, DESK, T0) == ["1000001"]

    changed = SeenUpdate("1000001", digest("answered in LAPOR!"))
    ledger.cycles.complete_page(TO_DOOR, seen={TARGET: [changed]}, owed=(TARGET, ["1000001"]))
    clock.advance(timedelta(minutes=1))
    ledger.route_links.schedule(TO_DOOR, TARGET, [("1000001", LATER)])

    assert _seen(ledger, TO_DOOR, "1000001") == digest("answered in LAPOR!")
    assert _seen(ledger, TO_DESK, "1000001") == before  # the desk's route has not seen it
    assert _due(ledger, TO_DOOR, SOURCE, T0) == []
    assert _due(ledger, TO_DESK, DESK, T0) == ["1000001"]
    link = ledger.links.of(ref_of(1), TARGET)  # the link keeps the last hash, for history
    assert link is not None and link.last_seen_hash == digest("answered in LAPOR!")


def test_a_record_joining_late_is_due_at_once_for_the_route_to_its_door(
    timed: tuple[Ledger, Clock],
) -> None:
    """Complaint 1 was polled and scheduled for days; the desk's copy joins: the route to the
    desk polls LAPOR!'s complaint now (its answers so far reach the desk), the other waits."""
    ledger, clock = timed
    ledger.route_links.register(ROUTES)
    linked(ledger, 1)
    ledger.route_links.schedule(TO_DOOR, TARGET, [("1000001", LATER)])
    assert _due(ledger, TO_DESK, DESK, LATER) == []  # no desk record: nothing to carry
    now = clock.advance(timedelta(hours=1))
    _join_desk(ledger, 1)
    assert _due(ledger, TO_DESK, DESK, now) == ["1000001"]
    assert _due(ledger, TO_DOOR, SOURCE, now) == []


def test_a_split_record_is_polled_no_more_for_its_door(timed: tuple[Ledger, Clock]) -> None:
    """The desk's record taken off the complaint: the route to the desk carries it no more."""
    ledger, _ = timed
    ledger.route_links.register(ROUTES)
    linked(ledger, 1)
    _join_desk(ledger, 1)
    with ledger.db.write() as session:
        session.execute(sa.text("DELETE FROM link WHERE system = :s"), {"s": DESK})
    assert _due(ledger, TO_DESK, DESK, LATER) == []
    assert _due(ledger, TO_DOOR, SOURCE, LATER) == ["1000001"]


def test_an_upgraded_ledger_starts_each_route_from_what_its_links_saw(
    ledger_url: str, engine: Engine
) -> None:
    """A ledger filled at 0010, upgraded: each route registered sees the hashes and the
    schedule the links held, nothing is new to it and nothing due is lost."""
    _migrate(engine, "0010_ticket")
    _fill_v0001(engine)
    link = sa.table(
        "link",
        sa.column("system"),
        sa.column("last_seen_hash"),
        sa.column("next_poll_at", UTCDateTime),
    )
    with engine.begin() as conn:
        conn.execute(link.update().values(last_seen_hash=digest("seen before the upgrade")))
        conn.execute(link.update().where(link.c.system == TARGET).values(next_poll_at=T0))
    with Ledger.open(ledger_url) as ledger:
        ledger.route_links.register(ROUTES)
        for route in (TO_DOOR, ROUTE):
            system = TARGET if route == TO_DOOR else SOURCE
            seen = ledger.links.by_remote(system, [f"{system}-1", f"{system}-2"], route=route)
            assert {i.last_seen_hash for i in seen.values()} == {digest("seen before the upgrade")}
        assert _due(ledger, TO_DOOR, SOURCE, T0) == ["lapor-1", "lapor-2"]
        assert _due(ledger, TO_DESK, DESK, T0) == []  # no complaint has a desk record
        ledger.route_links.register(ROUTES)  # registering again changes nothing
        assert _due(ledger, TO_DOOR, SOURCE, T0) == ["lapor-1", "lapor-2"]


def test_0011_downgrades_to_0010_and_upgrades_again(engine: Engine) -> None:
    """The downgrade drops route_def and route_link; upgrading adds them again."""
    _migrate(engine, "head")
    _migrate(engine, "0010_ticket", down=True)
    with engine.connect() as conn:
        assert not {"route_def", "route_link"} & set(inspect(conn).get_table_names())
    _migrate(engine, "head")
    with engine.connect() as conn:
        indexes = {i["name"] for i in inspect(conn).get_indexes("route_link")}
    assert "ix_route_link_route_next_poll" in indexes


def test_a_routes_due_polls_are_an_index_range_scan_on_sqlite(
    timed: tuple[Ledger, Clock], ledger_url: str
) -> None:
    """The due query walks ix_route_link_route_next_poll in order: no table scan, no sort."""
    if not ledger_url.startswith("sqlite"):
        pytest.skip("the query plan is checked on SQLite; PostgreSQL plans by its statistics")
    ledger, _ = timed
    ledger.route_links.register(ROUTES)
    linked(ledger, *range(50))
    query = due_query(TO_DOOR, TARGET, SOURCE, LATER, 10)
    with ledger.db.engine.connect() as conn:
        compiled = query.compile(dialect=conn.dialect)
        params = tuple(compiled.construct_params()[name] for name in compiled.positiontup or ())
        steps = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)]
    assert any("USING INDEX ix_route_link_route_next_poll" in step for step in steps)
    assert not any("TEMP B-TREE" in step or step.startswith("SCAN") for step in steps)
