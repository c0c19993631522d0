"""`bridge privacy report`: which complaints' personal fields left toward each system, no value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli.app import app
from bridge.ledger import Ledger
from bridge.sync import run_cycle
from tests.engine.conftest import EMAIL, NIK, PHONE, door_of, door_record, hub_of, make_route
from tests.pg import fresh_pg_database


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A ledger URL on SQLite or on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with fresh_pg_database("lb_processing") as pg_url:
        yield pg_url


def _ref(ledger: Ledger, door_id: str) -> str:
    [trace] = [t for t in ledger.history.find(door_id) if t.origin_id == door_id]
    return trace.ref


def _report(tmp_path: Path, url: str, *extra: str, since: str = "2020-01-01") -> str:
    config = tmp_path / "bridge.toml"
    config.write_text(f'[ledger]\nurl = "{url}"\n', encoding="utf-8")
    args = ["privacy", "report", "--since", since, "--config", str(config), *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_report_names_each_complaint_and_field_per_system_and_no_value(
    tmp_path: Path, url: str
) -> None:
    """Normal: its fields listed; anonim: scrubbed, no identity field; rahasia: not sent at all."""
    ledger = Ledger.open(url)
    route = make_route(ledger)
    door = door_of(route)
    door.put(door_record(1))
    door.put(door_record(2, hide_identitas=1))
    door.put(door_record(3, hide_pengaduan=1))
    run_cycle(route)
    door.post_followup("1", {"tanggapan": "Terima kasih", "nama": "Made Wirawan"})
    run_cycle(replace(route))
    normal, anonim = _ref(ledger, "1"), _ref(ledger, "2")
    hub_ids = {str(r["id"]) for r in hub_of(route).records()}
    assert len(hub_ids) == 2  # the rahasia complaint never reached the hub
    ledger.close()

    text = _report(tmp_path, url)
    data = json.loads(_report(tmp_path, url, "--json"))
    for value in (NIK, PHONE, EMAIL, "Made Wirawan", "Jl. Raya Kuta", "Mohon segera"):
        assert value not in text and value not in json.dumps(data)
    [hub] = [entry for name, entry in data["systems"].items() if name == "hub"]
    assert set(hub["complaints"]) == {normal, anonim}
    assert set(hub["complaints"].values()) == hub_ids
    assert hub["anonim"] == [anonim] and hub["rahasia"] == []
    for field in ("reporter_name", "nik", "phone", "email"):
        assert hub["fields"][field] == [normal], field
    assert anonim not in hub["fields"]["address"] + hub["fields"]["coordinates"]
    assert [f["ref"] for f in hub["followups"]] == [normal]
    assert f"{normal} -> " in text and "anonim, identity removed: 1" in text
    later = json.loads(_report(tmp_path, url, "--json", since="2099-01-01"))
    assert later["systems"] == {}  # nothing left after --since


def test_a_rahasia_complaint_sent_to_a_confidential_system_is_named_rahasia(
    tmp_path: Path, url: str
) -> None:
    """To a target marked receives_confidential the rahasia complaint goes, and is named so."""
    ledger = Ledger.open(url)
    route = make_route(ledger, target_confidential=True)
    door_of(route).put(door_record(3, hide_pengaduan=1))
    run_cycle(route)
    secret = _ref(ledger, "3")
    ledger.close()
    data = json.loads(_report(tmp_path, url, "--json"))
    assert data["systems"]["hub"]["rahasia"] == [secret]
    assert NIK not in json.dumps(data)
