"""Shared fixtures for the mapping tests: the shipped mapping files and a writer for broken ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.mapping import Mapping, load_mapping

MAPPINGS = Path(__file__).parents[2] / "mappings"


@pytest.fixture(scope="session")
def sidumas() -> Mapping:
    return load_mapping(MAPPINGS / "sidumas.toml")


@pytest.fixture(scope="session")
def lapor() -> Mapping:
    return load_mapping(MAPPINGS / "lapor.toml")


@pytest.fixture
def write_mapping(tmp_path: Path) -> Callable[..., Path]:
    """Write TOML text to a file in a temporary directory and return its path."""

    def write(text: str, name: str = "test.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
