"""Retention: set-aside payloads purged after [ledger] quarantine_retention_days, rows kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli.app import app
from bridge.cli.run import retention_purge
from bridge.config import BridgeConfig, LedgerSettings
from bridge.daemon import run_daemon
from bridge.ledger import Ledger
from bridge.privacy.retention import is_purged
from bridge.sync import run_cycle
from tests.engine.conftest import NIK, door_of, door_record, hub_of, make_route
from tests.pg import fresh_pg_database

START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """A ledger clock the test moves forward by days."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def aged(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Ledger, Clock]]:
    """A ledger on SQLite or PostgreSQL whose clock the test controls."""
    clock = Clock()
    if request.param == "sqlite":
        ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}", clock=clock)
        yield ledger, clock
        ledger.close()
        return
    with fresh_pg_database("lb_retention") as url:
        ledger = Ledger.open(url, clock=clock)
        yield ledger, clock
        ledger.close()


def _payload(ledger: Ledger, source_id: str) -> str:
    [item] = [q for q in ledger.quarantine.listed() if q.source_id == source_id]
    return item.record_json


def test_an_old_payload_is_purged_a_recent_one_kept_and_a_retry_still_works(
    aged: tuple[Ledger, Clock],
) -> None:
    """Purge empties only old payloads; the row and reason stay; a retry re-reads the source."""
    ledger, clock = aged
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1, topik=""))
    run_cycle(route)
    clock.now = START + timedelta(days=100)
    door.put(door_record(2, topik=""))
    run_cycle(replace(route))
    assert ledger.quarantine.purge(90, dry_run=True)[0].source_id == "1"
    assert not is_purged(_payload(ledger, "1"))

    [purged] = ledger.quarantine.purge(90)
    assert purged.source_id == "1"
    old = _payload(ledger, "1")
    assert is_purged(old) and NIK not in old and "Mohon" not in old
    assert not is_purged(_payload(ledger, "2")) and "Mohon" in _payload(ledger, "2")
    assert ledger.quarantine.purge(90) == []  # a purged payload is not purged twice

    [row] = [q for q in ledger.quarantine.listed() if q.source_id == "1"]
    run_cycle(replace(route))  # unchanged at its source: still recognised, not tried again
    [again] = [q for q in ledger.quarantine.listed() if q.source_id == "1"]
    assert again.attempts == row.attempts and again.reason == row.reason

    door.change("1", topik="Jalan rusak")
    ledger.quarantine.request_retry([row.id])
    run_cycle(replace(route))
    assert [r["title"] for r in hub_of(route).records()] == ["Jalan rusak"]
    assert [q.source_id for q in ledger.quarantine.listed()] == ["2"]


def test_the_purge_of_a_linked_complaint_is_in_its_history(aged: tuple[Ledger, Clock]) -> None:
    """A linked complaint set aside later gets a history line naming the purge, no value."""
    ledger, clock = aged
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1))
    run_cycle(route)
    door.change("1", topik="", kategori_id=None)
    run_cycle(replace(route))
    [item] = ledger.quarantine.listed()
    clock.now = START + timedelta(days=91)
    ledger.quarantine.purge(90)
    [trace] = ledger.history.find(item.source_id)
    [line] = [e for e in trace.events if e.kind == "quarantine.purged"]
    assert NIK not in str(line) and str(item.id) in str(line)


def test_bridge_privacy_purge_dry_run_counts_and_purge_empties(tmp_path: Path) -> None:
    """`bridge privacy purge --dry-run` prints counts and changes nothing; without it, purges."""
    clock = Clock()
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.open(url, clock=clock)
    route = make_route(ledger)
    door_of(route).put(door_record(1, topik=""))
    run_cycle(route)
    ledger.close()
    config = tmp_path / "bridge.toml"
    config.write_text(f'[ledger]\nurl = "{url}"\nquarantine_retention_days = 1\n', encoding="utf-8")
    runner = CliRunner()
    dry = runner.invoke(app, ["privacy", "purge", "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    assert "1 set-aside payload(s) older than 1 day(s) would be purged" in dry.output
    reopened = Ledger.open(url)
    try:
        assert not is_purged(_payload(reopened, "1"))
        done = runner.invoke(app, ["privacy", "purge", "--config", str(config)])
        assert "1 set-aside payload(s) older than 1 day(s) purged" in done.output
        assert is_purged(_payload(reopened, "1"))
    finally:
        reopened.close()


def test_the_daemon_runs_the_purge_when_it_starts(aged: tuple[Ledger, Clock]) -> None:
    """`bridge run` hands the daemon a daily purge, and the daemon runs it at start."""
    ledger, clock = aged
    route = make_route(ledger)
    door_of(route).put(door_record(1, topik=""))
    run_cycle(route)
    clock.now = START + timedelta(days=91)
    settings = BridgeConfig(ledger=LedgerSettings(quarantine_retention_days=90))
    purge = retention_purge(settings, ledger)
    assert purge is not None
    stop = threading.Event()

    def daily() -> None:
        purge()
        stop.set()

    assert run_daemon([], {}, stop=stop, daily=daily) == 0
    assert is_purged(_payload(ledger, "1"))
    kept = BridgeConfig(ledger=LedgerSettings(quarantine_retention_days=0))
    assert retention_purge(kept, ledger) is None
