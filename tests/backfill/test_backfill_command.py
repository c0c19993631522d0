"""The backfill command in-process over memory connectors: options, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli.app import app
from bridge.cli.backfill import parse_rate
from bridge.connectors.memory import REF_KEY, MemoryConnector, MemorySettings
from bridge.errors import ConfigError
from bridge.model import make_ref
from tests.conftest import MAPPINGS
from tests.engine.conftest import door_record

CONFIG = """\
[ledger]
url = "sqlite:///{ledger}"

[connectors.door]
type = "memory"
store = "door"
feed = "scan"
page_size = 2
mapping = "{mappings}/sidumas.toml"

[connectors.hub]
type = "memory"
store = "hub"
mapping = "{mappings}/lapor.toml"

[[routes]]
name = "door-to-hub"
source = "door"
target = "hub"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG.format(ledger=tmp_path / "l.db", mappings=MAPPINGS), encoding="utf-8")
    door = MemoryConnector("door", MemorySettings(type="memory", store="door"))
    for i, day in enumerate(["2024-12-31", "2025-01-01", "2025-01-02", "2025-01-03", "2025-02-01"]):
        door.put(door_record(i + 1, tanggal=f"{day} 08:00:00"))
    return path


def test_since_until_limit_and_json_select_exactly_the_right_complaints(config: Path) -> None:
    """--since 2025-01-01 --until 2025-02-01 --limit 2: the first two of that January, as JSON."""
    args = ["backfill", "-r", "door-to-hub", "--since", "2025-01-01", "--until", "2025-02-01"]
    result = CliRunner().invoke(app, [*args, "--limit", "2", "--json", "-c", str(config)])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["total_in_window"], summary["dry_run"]) == (2, 2, False)
    hub = MemoryConnector("hub", MemorySettings(type="memory", store="hub"))
    assert sorted(r[REF_KEY] for r in hub.records()) == sorted(
        make_ref("door", i) for i in ("2", "3")
    )


def test_the_summary_table_names_the_dry_run_and_its_numbers(config: Path) -> None:
    """Without --json: a table saying nothing was written, with would-be counts."""
    args = ["backfill", "-r", "door-to-hub", "--since", "2025-01-01", "--dry-run"]
    result = CliRunner().invoke(app, [*args, "-c", str(config)])

    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # the table wraps to the terminal's width
    assert "dry run, nothing written" in text
    assert "│ would be created │ 4 │" in text


@pytest.mark.parametrize(
    ("text", "per_second"), [("5", 5.0), ("5/s", 5.0), ("120/min", 2.0), ("3600/h", 1.0)]
)
def test_rate_is_read_per_second_minute_or_hour(text: str, per_second: float) -> None:
    """--rate takes N, N/s, N/min and N/h."""
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("text", ["0/s", "fast", "5/day"])
def test_a_rate_that_cannot_be_read_says_how_to_write_one(text: str) -> None:
    """A bad --rate is a configuration error naming the accepted forms."""
    with pytest.raises(ConfigError, match="120/min"):
        parse_rate(text)
