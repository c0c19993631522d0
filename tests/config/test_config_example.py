"""config.example.toml is valid with the real connectors, and documents every key."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from bridge.config import load_config

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
ENV = {
    "BRIDGE_CONNECTORS__LAPOR__API_KEY": "example-lapor-key",
    "BRIDGE_CONNECTORS__LAPOR__API_GUID": "example-lapor-guid",
    "BRIDGE_CONNECTORS__SIDUMAS__USERNAME": "petugas@example.go.id",
    "BRIDGE_CONNECTORS__SIDUMAS__PASSWORD": "example-sidumas-password",
}
MAPPINGS = ("mappings/lapor.toml", "mappings/sidumas.toml")

needs_connectors = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("connectors.lapor", "connectors.rest")),
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
