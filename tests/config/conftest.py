"""Fixtures writing a configuration file beside its mapping files, then loading it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import BridgeConfig, load_config
from tests.config.config_fakes import SECRETS, TYPES, VALID, Loader


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A folder holding the mapping files that VALID names."""
    (tmp_path / "mappings").mkdir()
    for name in ("lapor", "sidumas"):
        (tmp_path / "mappings" / f"{name}.toml").write_text("# mapping\n")
    return tmp_path


@pytest.fixture
def load(config_dir: Path) -> Loader:
    """Write ``text`` as bridge.toml and load it with ``env`` (the secrets by default)."""

    def _load(text: str = VALID, env: dict[str, str] | None = None) -> BridgeConfig:
        path = config_dir / "bridge.toml"
        path.write_text(text)
        return load_config(path, SECRETS if env is None else env, types=TYPES)

    return _load
