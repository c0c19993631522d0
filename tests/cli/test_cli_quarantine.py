"""`bridge quarantine` end to end: a bad mapping sets records aside; fixed, they go through."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.cli.test_cli import bridge
from tests.conftest import MAPPINGS, ODD_DATE, reading_dmy
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def _with_odd_dates(sims: Sims, count: int) -> list[str]:
    """Give `count` door records a date format the mapping cannot read; return their ids."""
    ids = []
    for record in sims.door_state.records[:count]:
        if record.get("hide_pengaduan"):
            continue
        odd = copy.deepcopy(record)
        odd["tanggal"] = ODD_DATE
        sims.door_state.upsert_raw(odd)
        ids.append(str(record["id"]))
    return ids


def _use_fixed_mapping(sims: Sims, tmp_path: Path) -> None:
    """Point the config's SIDUMAS connector at a copy of its mapping that reads ``ODD_DATE``."""
    text = reading_dmy((MAPPINGS / "sidumas.toml").read_text(encoding="utf-8"))
    local = tmp_path / "sidumas-local.toml"
    local.write_text(text, encoding="utf-8")
    config = sims.config_path.read_text(encoding="utf-8")
    config = config.replace(str(MAPPINGS / "sidumas.toml"), str(local))
    sims.config_path.write_text(config, encoding="utf-8")
    assert str(local) in sims.config_path.read_text(encoding="utf-8")


def test_fixed_mapping_heals_the_backlog_with_retry_all(sims: Sims, tmp_path: Path) -> None:
    """Set aside for an unreadable date; after the mapping learns it, retry --all delivers them."""
    odd = _with_odd_dates(sims, 6)
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    created_before = sims.hub_state.create_count

    listed = bridge("quarantine", "list", "--config", config)
    assert listed.returncode == 0, listed.stderr
    for source_id in odd:
        assert f" {source_id} " in listed.stdout
    assert "cannot read" in listed.stdout

    shown = bridge("quarantine", "show", "1", "--config", config)
    assert shown.returncode == 0, shown.stderr
    assert "personal data masked" in shown.stdout
    assert "081" not in shown.stdout  # the stored record is masked: no phone number

    # Retrying before the fix changes nothing: they are set aside again, one more attempt.
    again = bridge("quarantine", "retry", "--all", "--config", config)
    assert again.returncode == 0, again.stderr
    assert f"0 of {len(odd)} retried record(s) went through" in again.stdout
    assert sims.hub_state.create_count == created_before

    _use_fixed_mapping(sims, tmp_path)
    healed = bridge("quarantine", "retry", "--all", "--config", config)
    assert healed.returncode == 0, healed.stderr
    assert f"{len(odd)} of {len(odd)} retried record(s) went through" in healed.stdout
    assert sims.hub_state.create_count == created_before + len(odd)
    assert bridge("quarantine", "list", "--config", config).stdout.startswith("Nothing")

    # Exactly once: another sync and another retry add nothing.
    assert bridge("sync", "--once", "--config", config).returncode == 0
    assert bridge("quarantine", "retry", "--all", "--config", config).returncode == 0
    assert sims.hub_state.create_count == created_before + len(odd)
    copies = sims.hub_copies()
    assert sum(copies.values()) == sims.hub_state.create_count and set(copies.values()) == {1}


def test_retry_later_only_marks_and_drop_forgets(sims: Sims) -> None:
    """--later leaves the work to the daemon; drop removes one record after confirmation."""
    _with_odd_dates(sims, 3)
    config = str(sims.config_path)
    bridge("sync", "--once", "--config", config)
    created = sims.hub_state.create_count

    marked = bridge("quarantine", "retry", "1", "--later", "--config", config)
    assert marked.returncode == 0, marked.stderr
    assert "Marked 1 record(s)" in marked.stdout
    assert sims.hub_state.create_count == created
    assert "asked" in bridge("quarantine", "list", "--config", config).stdout

    dropped = bridge("quarantine", "drop", "1", "--yes", "--config", config)
    assert dropped.returncode == 0, dropped.stderr
    assert bridge("quarantine", "show", "1", "--config", config).returncode == 1


def test_declining_to_drop_changes_nothing_and_shows_no_traceback(sims: Sims) -> None:
    _with_odd_dates(sims, 1)
    config = str(sims.config_path)
    bridge("sync", "--once", "--config", config)

    declined = bridge("quarantine", "drop", "1", "--config", config, stdin="n\n")
    assert declined.returncode == 130
    assert "Traceback" not in declined.stderr
    assert bridge("quarantine", "show", "1", "--config", config).returncode == 0


def test_retry_needs_ids_or_all(sims: Sims) -> None:
    result = bridge("quarantine", "retry", "--config", str(sims.config_path))
    assert result.returncode == 2
    assert "--all" in result.stderr


def test_a_record_gone_from_its_source_stays_with_a_reason(sims: Sims) -> None:
    """A retried record the source no longer has is not lost silently: it says so."""
    (gone,) = _with_odd_dates(sims, 1)
    config = str(sims.config_path)
    bridge("sync", "--once", "--config", config)
    sims.door_state.records = [r for r in sims.door_state.records if str(r["id"]) != gone]

    result = bridge("quarantine", "retry", "--all", "--config", config)
    assert "0 of 1 retried record(s) went through" in result.stdout
    assert "no longer has this record" in result.stdout
    assert f" {gone} " in bridge("quarantine", "list", "--config", config).stdout
