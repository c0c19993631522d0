"""`bridge doctor` against a misconfigured set-up names each problem and its fix."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e
WIB = ZoneInfo("Asia/Jakarta")


def add_agency(sims: Sims, institution_id: str, connector_key: str = "") -> None:
    """The demo's [agency] with another institution id (and a key added to [connectors.lapor])."""
    text = sims.config_path.read_text(encoding="utf-8")
    demo = 'institution_id = "1001"'
    assert demo in text
    text = text.replace(demo, f'institution_id = "{institution_id}"', 1)
    text = text.replace("[connectors.lapor]\n", f"[connectors.lapor]\n{connector_key}\n", 1)
    sims.config_path.write_text(text, encoding="utf-8")


def test_doctor_names_a_wrong_agency_a_future_skewed_source_and_an_unknown_code(
    sims: Sims,
) -> None:
    """Wrong [agency] id, rows 7 h ahead, category 436: each named with its fix; exit 1."""
    add_agency(sims, "9999")
    ahead = datetime.now(WIB) + timedelta(hours=7)
    sims.hub_state.insert_raw(
        {
            "title": "Jalan rusak",
            "content": "Jalan rusak parah",
            "disposition_id": 9999,  # pulled as [agency] says
            "category_id": 436,
            "updated_at": ahead.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    result = bridge("doctor", "--config", str(sims.config_path))
    assert result.returncode == 1, result.stderr
    text = " ".join(result.stdout.split())
    assert "[agency] institution_id 9999 is not in LAPOR!'s institution master" in text
    assert "fix: set [agency] institution_id to your agency's id: 1001" in text
    assert "code '436' of [values.category] is not mapped (seen 1 times)" in text
    assert "`bridge mapping codes lapor`" in text
    assert "a whole 7 h, so its times are written in a zone 7 h ahead of Asia/Jakarta" in text
    assert "set [mapping] timezone" in text


def test_doctor_passes_a_set_up_that_agrees(sims: Sims) -> None:
    """The demo set-up with its agency declared: no problem found, exit 0."""
    add_agency(sims, "1001")
    result = bridge("doctor", "--config", str(sims.config_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems found" in result.stdout


def test_a_connector_naming_another_agency_stops_doctor_naming_both_places(sims: Sims) -> None:
    """connectors.lapor.disposition_id 1001 beside [agency] 9999: refused at start, with the fix."""
    add_agency(sims, "9999", 'disposition_id = "1001"')
    result = bridge("doctor", "--config", str(sims.config_path))
    assert result.returncode != 0
    text = " ".join((result.stdout + result.stderr).split())
    assert "connectors.lapor.disposition_id is '1001' but [agency] institution_id is '9999'" in text
    assert "remove disposition_id from [connectors.lapor]" in text


def test_doctor_names_each_mapping_constant_that_names_another_agency(sims: Sims) -> None:
    """A literal disposition_id of another agency and a reference to the wrong [agency] key:
    each its own finding, in the words the connector refuses them with at start."""
    add_agency(sims, "1001")
    shipped = sims.config_path.read_text(encoding="utf-8").split('mapping = "', 2)[1]
    shipped = shipped.split('"', 1)[0]
    assert shipped.endswith("lapor.toml")
    text = Path(shipped).read_text(encoding="utf-8")
    text = text.replace("is_priority = 0\n", "is_priority = 0\ndisposition_id = 2002\n", 1)
    text += '\n[followups.constants]\ninstitution_from_id = { agency = "location_id" }\n'
    mapping = sims.config_path.parent / "lapor-old.toml"
    mapping.write_text(text, encoding="utf-8")
    config = sims.config_path.read_text(encoding="utf-8").replace(shipped, str(mapping), 1)
    sims.config_path.write_text(config, encoding="utf-8")
    result = bridge("doctor", "--config", str(sims.config_path))
    assert result.returncode == 1, result.stdout + result.stderr
    text = " ".join(result.stdout.split())
    assert "[constants] disposition_id is 2002 but [agency] institution_id is '1001'" in text
    assert "institution_from_id takes [agency] location_id: it must be" in text
    assert '{ agency = "institution_id" }' in text
