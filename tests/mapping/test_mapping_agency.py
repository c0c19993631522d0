"""A mapping takes the agency's identity from the configuration: ``{ agency = "KEY" }``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.config.settings import AgencySettings
from bridge.demo import DEMO_SECRETS, write_config
from bridge.errors import MappingError
from bridge.ledger import Ledger
from bridge.mapping import AGENCY_KEYS, check_mappings, load_mapping
from bridge.model import Complaint, FollowUp
from bridge.sync import build_routes, close_routes
from tests.cli.test_cli import bridge

BADUNG = {
    "institution_id": "1001",
    "location_id": "5103",
    "channel": "9",
    "name": "Pemerintah Kabupaten Badung",
}
DOOR = """\
[mapping]
system = "aduan-desa"
timezone = "Asia/Makassar"
id = "id"

[fields]
title = "judul"
content = "isi"
institution_name = { read = "instansi", write = false }

[defaults]
institution_name = { agency = "name" }

[constants]
instansi = { agency = "name" }
kode_instansi = { agency = "institution_id" }

[followups]
id = "id"

[followups.fields]
content = "isi"

[followups.constants]
institution_to_id = { agency = "institution_id" }
"""


def test_agency_keys_are_the_configuration_s() -> None:
    """The keys a mapping may name are exactly [agency]'s, so neither side drifts."""
    assert tuple(AgencySettings.model_fields) == AGENCY_KEYS


def test_references_write_and_default_the_agency_s_values(
    write_mapping: Callable[..., Path],
) -> None:
    """Constants carry [agency]'s values; a record without the field reads the agency's name."""
    mapping = load_mapping(write_mapping(DOOR), BADUNG)
    complaint = mapping.to_canonical({"id": 7, "judul": "Jalan", "isi": "Rusak"})
    assert complaint.institution_name == "Pemerintah Kabupaten Badung"
    native = mapping.to_native(Complaint(source_id="x", title="Jalan", content="Rusak"))
    assert native["instansi"] == "Pemerintah Kabupaten Badung"
    assert native["kode_instansi"] == "1001"
    followup = mapping.followup_to_native(FollowUp(source_id="f", content="Sudah"))
    assert followup["institution_to_id"] == "1001"


def test_an_unknown_agency_key_names_the_valid_ones(write_mapping: Callable[..., Path]) -> None:
    """{ agency = "nama" } is refused, with every key [agency] has."""
    path = write_mapping(
        DOOR.replace('{ agency = "name" }\n\n[constants]', '{ agency = "nama" }\n\n[constants]')
    )
    assert check_mappings([path])[path] == [
        f"{path}: [defaults] institution_name {{ agency = 'nama' }} names no [agency] key; "
        "use one of: institution_id, location_id, channel, name"
    ]


def test_a_key_the_configuration_does_not_set_is_refused_with_the_fix(
    write_mapping: Callable[..., Path],
) -> None:
    """A reference to [agency] name while the configuration has none: add it there."""
    path = write_mapping(DOOR)
    with pytest.raises(MappingError) as raised:
        load_mapping(path, {**BADUNG, "name": None})
    problems = raised.value.problems
    assert len(problems) == 2  # [defaults] and [constants]; institution_id is set
    assert all(
        "refers to [agency] name, which the configuration does not set" in p for p in problems
    )
    assert all('add name = "..." to [agency] in bridge.toml' in p for p in problems)


def test_loaded_without_a_configuration_a_reference_never_becomes_a_value(
    write_mapping: Callable[..., Path],
) -> None:
    """load_mapping without [agency] values refuses; check_mappings checks the keys only."""
    path = write_mapping(DOOR)
    with pytest.raises(MappingError, match="loaded without a configuration"):
        load_mapping(path)
    assert check_mappings([path]) == {path: []}


def test_a_door_whose_mapping_needs_an_unset_agency_value_stops_at_start(tmp_path: Path) -> None:
    """The demo's SIDUMAS mapping writing [agency] name, with no name configured: refused."""
    config_path = write_config(
        tmp_path, "http://127.0.0.1:9", "http://127.0.0.1:9", tmp_path / "l.db"
    )
    shipped = Path(__file__).parents[2] / "mappings" / "sidumas.toml"
    door = tmp_path / "sidumas.toml"
    door.write_text(
        shipped.read_text(encoding="utf-8") + '\n[constants]\ninstansi = { agency = "name" }\n',
        encoding="utf-8",
    )
    text = config_path.read_text(encoding="utf-8")
    text = text.replace('name = "Pemerintah Kabupaten Badung"\n', "", 1)
    text = text.replace(str(shipped), str(door), 1)
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path, environ=DEMO_SECRETS)
    with Ledger.open(config.ledger.url) as ledger, pytest.raises(MappingError) as raised:
        close_routes(build_routes(config, ledger))
    (problem,) = raised.value.problems
    assert "[constants] instansi refers to [agency] name" in problem

    result = bridge("mapping", "check", str(door), "--config", str(config_path))
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert "[constants] instansi refers to [agency] name, which the configuration" in said
    assert bridge("mapping", "check", str(door)).returncode == 0  # keys only: fine
