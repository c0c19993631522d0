"""`bridge review` end to end: a status the mapping does not know waits for a person."""

from __future__ import annotations

import copy

import pytest

from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def _with_unknown_status(sims: Sims) -> str:
    """Give one door record a raw status no mapping knows; return its id."""
    record = next(r for r in sims.door_state.records if not r.get("hide_pengaduan"))
    odd = copy.deepcopy(record)
    odd["status"], odd["status_pengaduan"] = 99, "Entah"
    sims.door_state.upsert_raw(odd)
    return str(record["id"])


def test_an_unknown_status_is_listed_shown_and_closed(sims: Sims) -> None:
    _with_unknown_status(sims)
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0

    status = bridge("status", "--config", config)
    assert "To review: bridge review list" in status.stdout

    listed = bridge("review", "list", "--config", config)
    assert listed.returncode == 0, listed.stderr
    assert "to review: 1" in listed.stdout
    assert "status" in listed.stdout and "sidumas" in listed.stdout
    assert "add the raw code" in listed.stdout  # what to do about this kind of flag

    shown = bridge("review", "show", "1", "--config", config)
    assert shown.returncode == 0, shown.stderr
    assert '"raw_code": "99"' in shown.stdout
    assert "Entah" in shown.stdout
    assert "state:      open" in shown.stdout

    closed = bridge("review", "done", "1", "--config", config)
    assert closed.returncode == 0, closed.stderr
    assert "Closed 1 flag(s)." in closed.stdout
    assert bridge("review", "list", "--config", config).stdout.startswith("Nothing waits")
    everything = bridge("review", "list", "--all", "--config", config)
    assert "closed" in everything.stdout
    assert "To review" not in bridge("status", "--config", config).stdout


def test_done_with_an_unknown_id_says_so(sims: Sims) -> None:
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    result = bridge("review", "done", "41", "--config", config)
    assert result.returncode == 1
    assert "No review flag with id 41" in result.stderr
    assert bridge("review", "show", "41", "--config", config).returncode == 1
