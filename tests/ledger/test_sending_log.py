"""The sending log: which creates noted as sending started; every doubt means "may have"."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bridge.ledger.failures import LedgerUnavailable
from bridge.ledger.sending_log import SendingLog, for_ledger

AT = datetime(2026, 3, 2, 8, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def log(tmp_path: Path) -> SendingLog:
    return SendingLog("sqlite:/ledger.db", tmp_path / "logs")


def test_a_noted_create_never_started_is_told_apart_from_one_that_started(
    log: SendingLog,
) -> None:
    """Both were noted at one stamp; only the one without a ``start`` line never left."""
    log.noted("r", ["lb1", "lb2"], AT, fresh=True)
    log.starting("r", "lb1")

    assert not log.never_started("r", "lb1", AT)
    assert log.never_started("r", "lb2", AT)


def test_another_stamp_an_unknown_ref_or_no_file_proves_nothing(log: SendingLog) -> None:
    """A create stamped again since (another ``sent_at``), or never in the log: may have left."""
    assert not log.never_started("r", "lb1", AT)  # no file yet
    log.noted("r", ["lb1"], AT, fresh=True)

    assert not log.never_started("r", "lb1", AT + timedelta(microseconds=1))
    assert not log.never_started("r", "lb9", AT)
    assert not log.never_started("other route", "lb1", AT)


def test_a_start_after_a_later_note_counts_and_a_fresh_log_forgets(log: SendingLog) -> None:
    """Lines append in order; starting over drops every earlier note (then: may have left)."""
    later = AT + timedelta(seconds=5)
    log.noted("r", ["lb1"], AT, fresh=True)
    log.noted("r", ["lb2"], later, fresh=False)
    log.starting("r", "lb2")
    assert log.never_started("r", "lb1", AT)
    assert not log.never_started("r", "lb2", later)

    log.noted("r", ["lb3"], later, fresh=True)

    assert not log.never_started("r", "lb1", AT)
    assert log.never_started("r", "lb3", later)


def test_closing_removes_the_file(tmp_path: Path) -> None:
    """A route let go on exit needs no successor's help: its file goes, owner-only till then."""
    log = SendingLog("k", tmp_path / "logs")
    log.noted("r", ["lb1"], AT, fresh=True)
    path = log.path("r")
    assert path.exists() and path.stat().st_mode & 0o077 == 0

    log.close()

    assert not path.exists()


def test_a_noted_create_whose_start_cannot_be_written_does_not_leave(tmp_path: Path) -> None:
    """Unlogged, a successor would take it for never sent: the create stops instead."""
    log = SendingLog("k", tmp_path / "logs")
    log.noted("r", ["lb1"], AT, fresh=True)
    path = log.path("r")
    os.close(log._open[path])
    log._open[path] = os.open(path, os.O_RDONLY)  # every write now fails

    with pytest.raises(LedgerUnavailable, match="cannot note that a create starts"):
        log.starting("r", "lb1")
    log.starting("r", "lb2")  # never noted here: a successor waits for it anyway
    assert log.never_started("r", "lb1", AT)  # why it must not have left


def test_a_note_that_cannot_be_written_leaves_sent_at_alone_to_decide(tmp_path: Path) -> None:
    """No folder (a file in its place): no note, so the successor waits, and creates go on."""
    (tmp_path / "blocked").write_text("a file where the folder should be")
    blocked = SendingLog("k", tmp_path / "blocked")

    blocked.noted("r", ["lb1"], AT, fresh=True)
    blocked.starting("r", "lb1")

    assert not blocked.never_started("r", "lb1", AT)


def test_an_sqlite_ledgers_log_lies_beside_its_file_for_every_bridge_sharing_it(
    tmp_path: Path,
) -> None:
    """Not in /tmp: systemd's PrivateTmp gives each unit its own, and a successor must read it."""
    url = make_url(f"sqlite:///{tmp_path / 'bridge.db'}")
    log, again = for_ledger(url), for_ledger(url)

    log.noted("r", ["lb1"], AT, fresh=True)

    assert log.path("r").parent == tmp_path / "bridge.db.sending"
    assert again.never_started("r", "lb1", AT)
    log.close()
    assert not (tmp_path / "bridge.db.sending").exists()
