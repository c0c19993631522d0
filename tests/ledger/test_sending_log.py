"""The sending log: which creates noted as sending started; every doubt means "may have"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.ledger.failures import LedgerUnavailable
from bridge.ledger.sending_log import SendingLog

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


def test_closing_removes_the_file_and_a_start_that_cannot_be_written_stops_the_create(
    tmp_path: Path,
) -> None:
    """A route let go needs no successor's help; an unloggable start must not leave."""
    log = SendingLog("k", tmp_path / "logs")
    log.noted("r", ["lb1"], AT, fresh=True)
    path = log.path("r")
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    log.close()
    assert not path.exists()

    (tmp_path / "blocked").write_text("a file where the folder should be")
    blocked = SendingLog("k", tmp_path / "blocked")
    blocked.noted("r", ["lb1"], AT, fresh=True)  # only logged: sent_at alone then decides
    with pytest.raises(LedgerUnavailable, match="cannot note that a create starts"):
        blocked.starting("r", "lb1")
