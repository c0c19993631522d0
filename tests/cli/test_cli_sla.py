"""`bridge sla`: what is due or overdue, as a table for people and as JSON for scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.ledger import Ledger
from tests.cli.test_cli import bridge
from tests.daemon.ledger_fill import fill, ticket


def _config(tmp_path: Path, ledger_url: str) -> str:
    path = tmp_path / "bridge.toml"
    path.write_text(
        f'[ledger]\nurl = "{ledger_url}"\n[daemon]\ntime_zone = "Asia/Makassar"\n', encoding="utf-8"
    )
    return str(path)


def test_sla_lists_overdue_complaints_by_the_numbers_people_know(tmp_path: Path) -> None:
    """Complaints filed weeks ago are listed OVERDUE with their ticket, times in WITA."""
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    with Ledger.open(url) as ledger:
        fill(ledger, 12, datetime.now(UTC) - timedelta(days=40))
    config = _config(tmp_path, url)

    table = bridge("sla", "--config", config, env={"COLUMNS": "80"}, secrets={})
    as_json = bridge("sla", "--config", config, "--json", "--due", "2d", secrets={})

    assert table.returncode == 0, table.stderr
    assert "OVERDUE" in table.stdout and ticket(1) in table.stdout
    assert "(Asia/Makassar)" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["zone"] == "Asia/Makassar"
    rows = document["deadlines"]
    assert len(rows) == 10  # 12 filled, two closed
    assert all(row["overdue"] and row["due_at"].endswith("+08:00") for row in rows)


def test_sla_refuses_a_due_span_it_cannot_read(tmp_path: Path) -> None:
    """--due takes days or hours (1d, 12h); anything else is a usage error, exit code 2."""
    url = f"sqlite:///{tmp_path / 'bridge.db'}"
    Ledger.open(url).close()
    answer = bridge("sla", "--config", _config(tmp_path, url), "--due", "tomorrow", secrets={})
    assert answer.returncode == 2
    assert "like 1d or 12h" in answer.stderr
