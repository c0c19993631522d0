"""[agency] is the one identity: the lapor connector reads it, and every other place must agree."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import respx
from structlog.testing import capture_logs

from bridge.config import build_connector, load_config
from bridge.connectors.lapor import LaporConnector
from bridge.errors import ConfigError

BASE = "https://api-splp.layanan.go.id/lapor/3.0.0"
MAPPINGS = Path(__file__).parents[2] / "mappings"
ENV = {
    "BRIDGE_CONNECTORS__LAPOR__API_KEY": "k3y",
    "BRIDGE_CONNECTORS__LAPOR__API_GUID": "g-u-i-d",
}
TABUNAN = '[agency]\ninstitution_id = 2002\nlocation_id = "5104"\nchannel = 9\n'


def write_config(
    tmp_path: Path, agency: str, connector: str = "", mapping: Path | None = None
) -> Path:
    text = (
        f'{agency}\n[connectors.lapor]\ntype = "lapor"\nbase_url = "{BASE}"\n'
        f'mapping = "{mapping or MAPPINGS / "lapor.toml"}"\n{connector}\n'
    )
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    return path


def connector(path: Path) -> LaporConnector:
    made = build_connector(load_config(path, ENV), "lapor")
    assert isinstance(made, LaporConnector)
    return made


def test_the_connector_files_and_pulls_as_the_agency(tmp_path: Path) -> None:
    """With only [agency] set, creates, follow-ups and the listing all carry its ids."""
    lapor = connector(write_config(tmp_path, TABUNAN))
    with respx.mock:
        created = respx.post(f"{BASE}/complaints/complaint").respond(json={"complaint_id": 5})
        added = respx.post(f"{BASE}/complaints/followup/add").respond(json={"results": {}})
        listed = respx.get(f"{BASE}/complaints").respond(
            json={"results": {"data": [], "next_page_url": None}}
        )
        lapor.create({"title": "t", "location_id": None}, [], "lbref")
        lapor.add_followup("5", {"content": "Sudah diperbaiki"}, [])
        list(lapor.pull())
    sent = json.loads(created.calls.last.request.content)
    assert (sent["disposition_id"], sent["location_id"], sent["channel"]) == (2002, 5104, 9)
    form = parse_qs(added.calls.last.request.content.decode())  # no files: url-encoded
    assert form["institution_from_id"] == ["2002"]
    assert parse_qs(listed.calls.last.request.url.query.decode())["disposition_id"] == ["2002"]


def test_a_records_own_location_wins_over_the_agencys(tmp_path: Path) -> None:
    """A door that names the complaint's region keeps it; [agency] only fills a gap."""
    lapor = connector(write_config(tmp_path, TABUNAN))
    with respx.mock:
        created = respx.post(f"{BASE}/complaints/complaint").respond(json={"complaint_id": 5})
        lapor.create({"title": "t", "location_id": 5171}, [], "lbref")
    assert json.loads(created.calls.last.request.content)["location_id"] == 5171


def test_a_connector_key_that_disagrees_with_agency_is_refused(tmp_path: Path) -> None:
    """disposition_id in the connector table naming another agency fails, naming both places."""
    path = write_config(tmp_path, TABUNAN, "disposition_id = 1001")
    with pytest.raises(ConfigError) as caught:
        load_config(path, ENV)
    [problem] = caught.value.problems
    assert "connectors.lapor.disposition_id is 1001" in problem
    assert "[agency] institution_id is '2002'" in problem
    assert "remove disposition_id from [connectors.lapor]" in problem


def test_an_old_configuration_still_works_with_a_deprecation_warning(tmp_path: Path) -> None:
    """An old configuration setting disposition_id without [agency] works, told to move it."""
    with capture_logs() as logs:
        lapor = connector(write_config(tmp_path, "", "disposition_id = 1001"))
    assert lapor.options.disposition_id == "1001"
    [warning] = [entry for entry in logs if entry["event"] == "config.agency.deprecated"]
    assert warning["key_path"] == "connectors.lapor.disposition_id"
    assert "[agency] institution_id" in warning["fix"]


def test_mapping_constants_that_name_another_agency_are_refused(tmp_path: Path) -> None:
    """An old mapping's disposition_id / institution_from_id constants must equal [agency]."""
    text = (MAPPINGS / "lapor.toml").read_text()
    text = text.replace("is_priority = 0\n", "is_priority = 0\ndisposition_id = 1001\n", 1)
    text += "\n[followups.constants]\ninstitution_from_id = 2002\n"
    mapping = tmp_path / "old-lapor.toml"
    mapping.write_text(text)
    with pytest.raises(ConfigError) as caught:
        connector(write_config(tmp_path, TABUNAN, mapping=mapping))
    [problem] = caught.value.problems  # institution_from_id agrees: only one place is wrong
    assert f"{mapping} [constants] disposition_id is 1001" in problem
    assert "[agency] institution_id is '2002'" in problem
    assert "remove disposition_id from the mapping's [constants]" in problem
