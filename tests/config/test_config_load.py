"""Loading a valid configuration: values, defaults, lookups, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import (
    BridgeConfig,
    DaemonSettings,
    LedgerSettings,
    build_connector,
    load_config,
    secret_env_var,
)
from bridge.errors import ConfigError
from bridge.privacy import scrub_text
from tests.config.config_fakes import (
    LAPOR_GUID,
    LAPOR_KEY,
    SECRETS,
    TYPES,
    VALID,
    LaporLike,
    Loader,
    setting,
)


def test_full_valid_config_loads(load: Loader, config_dir: Path) -> None:
    """Every section of a valid file lands in typed, frozen settings."""
    config = load()

    assert config.path == config_dir / "bridge.toml"
    assert config.ledger == LedgerSettings(
        url=f"sqlite:///{config_dir}/bridge.db",
        state_file=str(config_dir / ".lapor-bridge-state.json"),
    )
    assert config.daemon == DaemonSettings(log_format="json", log_level="info")
    assert set(config.connectors) == {"lapor", "sidumas"}
    assert config.connector_settings("lapor").type == "lapor-like"
    assert setting(config, "lapor", "base_url") == "https://lapor.example/3.0.0"
    assert setting(config, "lapor", "api_key").get_secret_value() == LAPOR_KEY


def test_route_name_defaults_to_source_to_target(load: Loader) -> None:
    """A [[routes]] entry without a name is called "<source>-to-<target>"."""
    route = load().route("sidumas-to-lapor")

    assert (route.source, route.target) == ("sidumas", "lapor")
    assert route.interval_seconds == 60
    assert route.jitter_seconds == 30
    assert route.enabled is True


def test_settings_are_frozen(load: Loader) -> None:
    """Loaded settings cannot be changed afterwards."""
    config = load()

    with pytest.raises(TypeError):
        config.connectors["x"] = config.connectors["lapor"]  # type: ignore[index]
    with pytest.raises(ValueError, match="frozen"):
        config.routes[0].enabled = False  # type: ignore[misc]


def test_mapping_path_is_relative_to_the_config_file(
    load: Loader,
    config_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A relative `mapping` is read from the config file's folder, not the working folder."""
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))

    config = load()

    assert config.connectors["lapor"].mapping == str(config_dir / "mappings" / "lapor.toml")


def test_path_defaults_to_bridge_config_variable(load: Loader, config_dir: Path) -> None:
    """With no path given, $BRIDGE_CONFIG names the file."""
    load()  # writes bridge.toml
    env = {**SECRETS, "BRIDGE_CONFIG": str(config_dir / "bridge.toml")}

    assert load_config(None, env, types=TYPES).path == config_dir / "bridge.toml"


def test_path_defaults_to_bridge_toml_in_working_folder(
    load: Loader, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no path and no $BRIDGE_CONFIG, ./bridge.toml is read."""
    load()
    monkeypatch.chdir(config_dir)

    assert load_config(None, SECRETS, types=TYPES).path == config_dir / "bridge.toml"


def test_empty_file_gives_defaults(load: Loader, config_dir: Path) -> None:
    """An empty file is a valid configuration with default ledger and daemon settings."""
    config = load("", {})

    assert config.ledger.url == f"sqlite:///{config_dir}/bridge.db"  # beside bridge.toml
    assert config.daemon.log_format == "auto"
    assert (config.connectors, config.routes) == ({}, ())


def test_memory_connector_type_is_allowed(load: Loader) -> None:
    """A route may use `memory` connectors, which need no keys but their type."""
    text = '[connectors.a]\ntype = "memory"\n[connectors.b]\ntype = "memory"\n'
    text += '[[routes]]\nname = "demo"\nsource = "a"\ntarget = "b"\n'

    assert load(text, {}).route("demo").source == "a"


def test_unknown_route_lookup_lists_the_routes(load: Loader) -> None:
    """Asking for a route that does not exist names the ones that do."""
    with pytest.raises(ConfigError, match="defined routes: sidumas-to-lapor"):
        load().route("nope")


def test_unknown_connector_lookup_lists_the_connectors(load: Loader) -> None:
    """Asking for a connector that does not exist names the ones that do."""
    with pytest.raises(ConfigError, match="defined connectors: lapor, sidumas"):
        load().connector_settings("nope")


def test_build_connector_instantiates_the_type(load: Loader) -> None:
    """build_connector makes the configured type's connector with its name and settings."""
    config = load()

    connector = build_connector(config, "lapor", types=TYPES)

    assert isinstance(connector, LaporLike)
    assert connector.name == "lapor"
    assert connector.settings is config.connectors["lapor"]


def test_secret_env_var_names() -> None:
    """The environment variable for a key is BRIDGE_<SECTION>__<NAME>__<KEY>, upper case."""
    assert secret_env_var("connectors", "lapor", "api_key") == "BRIDGE_CONNECTORS__LAPOR__API_KEY"
    assert secret_env_var("routes", "a-to-b", "enabled") == "BRIDGE_ROUTES__A_TO_B__ENABLED"


def test_loaded_secrets_are_registered_for_log_scrubbing(load: Loader) -> None:
    """Every secret load_config reads is scrubbed from later log text."""
    load()

    assert scrub_text(f"sent {LAPOR_KEY} and {LAPOR_GUID}") == "sent *** and ***"


def test_config_can_be_built_in_code() -> None:
    """BridgeConfig has defaults, so other modules' tests can build one directly."""
    config = BridgeConfig()

    assert config.ledger.url == "sqlite:///bridge.db"
    assert config.routes == ()


def test_valid_fixture_is_the_one_documented() -> None:
    """The fixture file exercises every section (guards the other tests' meaning)."""
    assert all(f"[{s}" in VALID for s in ("ledger]", "daemon]", "connectors.", "[routes]"))
