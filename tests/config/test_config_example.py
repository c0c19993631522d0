"""config.example.toml is valid with the real connectors, and documents every key."""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ConfigDict

from bridge.config import BridgeConfig, load_config
from bridge.connector import (
    Connector,
    ConnectorSettings,
    NativeRecord,
    connector_class,
    registered_types,
)
from bridge.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
ENV = {
    "BRIDGE_CONNECTORS__LAPOR__API_KEY": "example-lapor-key",
    "BRIDGE_CONNECTORS__LAPOR__API_GUID": "example-lapor-guid",
    "BRIDGE_CONNECTORS__SIDUMAS__USERNAME": "petugas@example.go.id",
    "BRIDGE_CONNECTORS__SIDUMAS__PASSWORD": "example-sidumas-password",
}
MAPPINGS = ("mappings/lapor.toml", "mappings/sidumas.toml")
# The doors the example shows commented out, by connector name → type, and their routes.
COMMENTED_DOORS = {"lapor_export": "spreadsheet", "aduan_desa": "sql", "lapor_kota": "open311"}
COMMENTED_ROUTES = ("export-to-sidumas", "aduan-desa-to-lapor", "lapor-kota-to-lapor")
# "# " before a table header, a `key = ` line or a nested comment: a commented-out example.
_COMMENTED_OUT = re.compile(r"^# (?=\[\[?[a-z_.]+\]\]?$|[a-z_]+ = |# )")

needs_connectors = pytest.mark.skipif(
    any(
        importlib.util.find_spec(m) is None
        for m in ("bridge.connectors.lapor", "bridge.connectors.rest")
    ),
    reason="the lapor and rest connectors are not written yet",
)


@needs_connectors
def test_example_loads_with_secrets_from_environment(tmp_path: Path) -> None:
    """The example, beside mapping files, loads once its secrets are in the environment."""
    shutil.copy(EXAMPLE, tmp_path / "bridge.toml")
    for mapping in MAPPINGS:
        (tmp_path / mapping).parent.mkdir(exist_ok=True)
        (tmp_path / mapping).write_text("")

    config = load_config(tmp_path / "bridge.toml", ENV)

    assert config.route("sidumas-to-lapor").source == "sidumas"
    assert config.connector_settings("lapor").type == "lapor"
    assert config.connector_settings("sidumas").type == "rest"


@needs_connectors
@pytest.mark.skipif(
    not all((EXAMPLE.parent / m).is_file() for m in MAPPINGS),
    reason="the mapping files mappings/lapor.toml and mappings/sidumas.toml are not written yet",
)
def test_example_loads_in_place() -> None:
    """The example loads where it lives, with the project's own mapping files."""
    assert load_config(EXAMPLE, ENV).path == EXAMPLE


def test_example_names_the_secret_variables() -> None:
    """Each secret's environment variable is spelled out in the example."""
    text = EXAMPLE.read_text()

    assert all(var in text for var in ENV)


def test_every_key_in_example_is_commented() -> None:
    """Each key = value line sits in a paragraph that starts with a comment."""
    lines = EXAMPLE.read_text().splitlines()
    uncommented = []
    for index, line in enumerate(lines):
        if "=" not in line or line.lstrip().startswith(("#", "[")):
            continue
        above = index - 1
        while above >= 0 and "=" in lines[above] and not lines[above].startswith("#"):
            above -= 1
        if above < 0 or not lines[above].startswith("#"):
            uncommented.append(line)

    assert uncommented == []


@needs_connectors
def test_example_routes_go_both_ways(tmp_path: Path) -> None:
    """The example syncs SIDUMAS and LAPOR! both ways: a route each way, LAPOR! pulling ours."""
    config = _load_copy(tmp_path, EXAMPLE.read_text())

    assert [(r.name, r.source, r.target, r.enabled) for r in config.routes] == [
        ("sidumas-to-lapor", "sidumas", "lapor", True),
        ("lapor-to-sidumas", "lapor", "sidumas", True),
    ]
    assert config.connector_settings("lapor").model_dump()["disposition_id"] == "1001"


@needs_connectors
def test_example_sidumas_has_followups_status_and_ref() -> None:
    """The SIDUMAS door can be found by reference, and takes follow-ups and statuses."""
    config = load_config(EXAMPLE, ENV)
    sidumas = connector_class("rest")("sidumas", config.connector_settings("sidumas"))
    with sidumas:
        assert sidumas.can_find_by_ref
        assert sidumas.supports_followups
        assert sidumas.can_write_status


@needs_connectors
def test_commented_examples_stay_commented(tmp_path: Path) -> None:
    """The example doors and their routes are commented out: the file loads without them."""
    text = EXAMPLE.read_text()
    config = _load_copy(tmp_path, text)

    assert set(config.connectors) == {"lapor", "sidumas"}
    assert all(f"# [connectors.{name}]" in text for name in COMMENTED_DOORS)
    assert all(f'# name = "{route}"' in text for route in COMMENTED_ROUTES)


@needs_connectors
def test_commented_examples_are_valid_once_switched_on(tmp_path: Path) -> None:
    """Uncommented, every example door and route loads with its real connector type."""
    text = "\n".join(_COMMENTED_OUT.sub("", line) for line in EXAMPLE.read_text().splitlines())
    config = _load_copy(tmp_path, text, types=_installed_types())

    doors = {name: config.connector_settings(name).type for name in COMMENTED_DOORS}
    assert doors == COMMENTED_DOORS
    assert {r.name for r in config.routes} >= set(COMMENTED_ROUTES)


def _load_copy(
    tmp_path: Path, text: str, types: dict[str, type[Connector]] | None = None
) -> BridgeConfig:
    """Load ``text`` as bridge.toml beside empty stand-ins for every mapping file it names."""
    (tmp_path / "bridge.toml").write_text(text)
    for mapping in re.findall(r'^mapping = "([^"]+)"', text, flags=re.MULTILINE):
        (tmp_path / mapping).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / mapping).write_text("")
    return load_config(tmp_path / "bridge.toml", ENV, types=types)


class _AnySettings(ConnectorSettings):
    model_config = ConfigDict(extra="allow", frozen=True)


class _NotYetInstalled(Connector):
    """Stands in for a built-in type whose module is not written yet (its keys go unchecked)."""

    Settings = _AnySettings

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        yield from ()

    def get(self, record_id: str) -> NativeRecord | None:
        return None


def _installed_types() -> dict[str, type[Connector]]:
    types: dict[str, type[Connector]] = {}
    for name in registered_types():
        try:
            types[name] = connector_class(name)
        except ConfigError:
            types[name] = _NotYetInstalled
    return types
