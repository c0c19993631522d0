"""A sql door that may not be written: the write-back route says why, and nothing crashes.

The real config loader and the ``bridge`` command over the LAPOR! simulator and a fresh
MariaDB and PostgreSQL database (``tests/e2e/sql_door.py``): a door configured read-only
(``writable = false``), a database user with only SELECT, and a value too long for its
column.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bridge.config import load_config
from bridge.daemon import run_daemon
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import build_routes, close_routes
from tests.cli.test_cli import bridge
from tests.e2e.sql_door import (
    FROM_LAPOR,
    SECRETS,
    TO_LAPOR,
    Door,
    door_fixture,  # noqa: F401 - registers the `door` fixture
    seed,
)
from tests.e2e.test_two_way_daemon import Cycles
from tests.sqlfixtures import (
    SHIPPED_TRANSPORT,
    read_only_user,
    sql_db_fixture,  # noqa: F401 - registers the `sql_db` fixture
    write_mapping,
)

pytestmark = pytest.mark.e2e

ANSWER = "Tim PUPR sudah menambal lubang di banjar 1 pada hari Senin."
READ_ONLY = {
    **SHIPPED_TRANSPORT,
    "responses": {**SHIPPED_TRANSPORT["responses"], "writable": False},
}


def _answered(door: Door, count: int = 3) -> list[int]:
    """``count`` rows carried to LAPOR!, the first answered there; their ids."""
    ids = seed(door.db, count)
    assert door.sync(TO_LAPOR).ok
    [hub] = door.hub_by_ref()[make_ref("pengaduan", str(ids[0]))]
    door.write_in_lapor(str(hub["id"]), ANSWER)
    return ids


def test_a_read_only_door_says_so_once_and_sync_exits_0(door: Door, tmp_path: Path) -> None:
    """`writable = false` with both routes: sync --once exits 0, says read-only once, no trace."""
    door.reconfigure(mapping=write_mapping(tmp_path, READ_ONLY))
    ids = _answered(door)
    result = bridge("sync", "--once", "--config", str(door.config_path), secrets=SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("pengaduan is read-only") == 1
    assert result.stderr.count("route.target.read_only") == 1
    assert "Traceback" not in result.stderr
    assert door.responses(ids[0]) == []


def test_the_daemon_says_read_only_once_and_every_cycle_runs(door: Door, tmp_path: Path) -> None:
    """The daemon over a read-only door: one route.target.read_only event, no crashed cycle."""
    door.reconfigure(mapping=write_mapping(tmp_path, READ_ONLY))
    _answered(door)
    config = load_config(door.config_path, environ=SECRETS)
    with capture_logs() as logs, Ledger.open(config.ledger.url) as ledger:
        routes = build_routes(config, ledger)
        cycles, stop = Cycles(), threading.Event()
        intervals = {route.name: (0.05, 0.0) for route in routes}
        kwargs = {"stop": stop, "on_cycle": cycles}
        thread = threading.Thread(target=run_daemon, args=(routes, intervals), kwargs=kwargs)
        thread.start()
        try:
            reports = cycles.wait(rounds=3)
        finally:
            stop.set()
            thread.join(timeout=120)
            close_routes(routes)
    events = [entry["event"] for entry in logs]
    assert events.count("route.target.read_only") == 1
    assert "route.cycle.crashed" not in events
    assert all(report.ok for report in reports), [r.error for r in reports]


def test_a_select_only_user_stops_the_write_back_route_with_the_grant(door: Door) -> None:
    """A read-only user pulls; the refused INSERT stops only the write-back, naming the GRANT."""
    with read_only_user(door.db) as url:
        door.reconfigure(db_url=url)
        ids = _answered(door)
        user = url.split("//")[1].split("@")[0]
        reports = [door.sync(FROM_LAPOR) for _ in range(3)]
        paused = door.sync(FROM_LAPOR)
        with door.ledger() as ledger:
            last = ledger.cycles.status(FROM_LAPOR).last_cycle
            [health] = ledger.health.listed(["pengaduan"])
    for report in reports:
        assert report.error is not None
        assert report.error.startswith("AccessDenied")
        assert f"GRANT INSERT ON tanggapan TO {user}" in report.error
    assert last is not None and last.error == reports[-1].error  # what `bridge status` shows
    # Not retried for ever: after three refusals in a row the door is paused.
    assert health.paused_until is not None
    assert paused.paused is not None and "pengaduan" in paused.paused
    assert door.responses(ids[0]) == []


def test_a_transport_column_that_is_not_there_stops_its_routes_with_its_name(
    door: Door, tmp_path: Path
) -> None:
    """[transport] naming a missing column: each route using the door stops, naming it; no crash."""
    door.reconfigure(mapping=write_mapping(tmp_path, {**SHIPPED_TRANSPORT, "ref_column": "no_ref"}))
    seed(door.db, 2)
    result = bridge("sync", "--once", "--config", str(door.config_path), secrets=SECRETS)
    assert result.returncode == 1, result.stderr
    assert "SchemaMismatch" in result.stderr
    assert "[transport].ref_column: table 'pengaduan' has no column 'no_ref'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_answer_too_long_for_its_column_is_held_and_the_others_land(door: Door) -> None:
    """One follow-up longer than tanggapan's column is refused and flagged; the other lands."""
    if door.db.backend == "mariadb":
        door.db.execute("ALTER TABLE tanggapan MODIFY tanggapan VARCHAR(80) NOT NULL")
    else:
        door.db.execute("ALTER TABLE tanggapan ALTER COLUMN tanggapan TYPE VARCHAR(80)")
    ids = _answered(door)
    [second] = door.hub_by_ref()[make_ref("pengaduan", str(ids[1]))]
    door.write_in_lapor(str(second["id"]), "Panjang sekali. " * 10)
    report = door.sync(FROM_LAPOR)
    assert report.ok, report.error
    assert report.counts["followup"] == 1
    assert report.counts["followup_failed"] == 1
    assert door.responses(ids[0]) == [ANSWER]
    assert door.responses(ids[1]) == []
    with door.ledger() as ledger:
        [review] = ledger.reviews.listed(FROM_LAPOR)
    assert "Panjang" not in review.reason
