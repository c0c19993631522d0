"""A PHP app that writes its times 7 h ahead of its database's clock (Laravel's APP_TIMEZONE
on a UTC server): every pull warns once with the fix, and `bridge status` shows it.

On real MariaDB and PostgreSQL, with the shipped ``pengaduan-php`` mapping in cursor mode:
the row stamped 7 h ahead waits behind the hold-back (that is the harm), the others go.
"""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from tests.cli.test_cli import bridge
from tests.e2e.sql_door import (
    SECRETS,
    TO_LAPOR,
    Door,
    db_time_ago,
    door_fixture,  # noqa: F401 - registers the `door` fixture
    seed,
)
from tests.sqlfixtures import sql_db_fixture  # noqa: F401 - registers the `sql_db` fixture

pytestmark = pytest.mark.e2e
SEVEN_HOURS = 7 * 3600
WHOLE = "a whole 7 h, so its times are written in a zone 7 h ahead of Asia/Jakarta"


def test_rows_seven_hours_ahead_warn_every_pull_once_and_show_in_status(door: Door) -> None:
    """One warning per cycle naming the 7 h and the fix; the notice in `bridge status`."""
    seed(door.db, 3)
    door.db.complaint(4, updated_at=db_time_ago(door.db, -SEVEN_HOURS))
    for _ in range(2):
        with capture_logs() as logs:
            report = door.sync(TO_LAPOR)
        assert report.ok, report.error
        [warning] = [e for e in logs if e["event"] == "sql.clock.ahead"]
        assert WHOLE in warning["problem"]
        assert "by the database's clock" in warning["problem"]
        assert "set [mapping] timezone" in warning["fix"]
    assert len(door.hub_by_ref()) == 3  # the fourth waits behind the hold-back

    result = bridge("status", "--config", str(door.config_path), secrets=SECRETS)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "Connector notices" in text and "pengaduan since" in text
    assert WHOLE in text
    result = bridge("status", "--json", "--config", str(door.config_path), secrets=SECRETS)
    [notice] = json.loads(result.stdout)["notices"]
    assert notice["system"] == "pengaduan" and WHOLE in notice["text"]


def test_rows_on_the_database_s_clock_warn_nothing(door: Door) -> None:
    """The seeded rows, minutes old by the database's clock: no warning, no notice."""
    seed(door.db, 3)
    with capture_logs() as logs:
        report = door.sync(TO_LAPOR)
    assert report.ok, report.error
    assert not [e for e in logs if e["event"] == "sql.clock.ahead"]
    with door.ledger() as ledger:
        assert ledger.notices.listed() == []
