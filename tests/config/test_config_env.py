"""Environment variables override the file, key by key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import ConfigError
from tests.config.config_fakes import SECRETS, VALID, Loader, setting


def test_ledger_url_from_environment_wins(load: Loader) -> None:
    """BRIDGE_LEDGER__URL replaces [ledger] url."""
    url = "postgresql+psycopg://bridge@127.0.0.1:5432/bridge"

    config = load(env={**SECRETS, "BRIDGE_LEDGER__URL": url})

    assert config.ledger.url == url


def test_connector_key_from_environment_wins(load: Loader) -> None:
    """BRIDGE_CONNECTORS__LAPOR__BASE_URL replaces [connectors.lapor] base_url."""
    env = {**SECRETS, "BRIDGE_CONNECTORS__LAPOR__BASE_URL": "https://sandbox.example/1.0"}

    config = load(env=env)

    assert setting(config, "lapor", "base_url") == "https://sandbox.example/1.0"


def test_secret_from_environment_wins_over_file(load: Loader) -> None:
    """A secret in the environment replaces one written in the file."""
    text = VALID.replace('type = "lapor-like"', 'type = "lapor-like"\napi_key = "from-file"')

    config = load(text)

    api_key = setting(config, "lapor", "api_key")
    assert api_key.get_secret_value() == SECRETS["BRIDGE_CONNECTORS__LAPOR__API_KEY"]


def test_variable_names_are_case_insensitive(load: Loader) -> None:
    """bridge_connectors__Lapor__base_url works like the upper-case spelling."""
    env = {**SECRETS, "bridge_connectors__Lapor__base_url": "https://other.example"}

    assert setting(load(env=env), "lapor", "base_url") == "https://other.example"


def test_values_are_parsed_as_toml_scalars(load: Loader) -> None:
    """Numbers and booleans from the environment become numbers and booleans."""
    env = {
        **SECRETS,
        "BRIDGE_CONNECTORS__LAPOR__PAGE_SIZE": "25",
        "BRIDGE_CONNECTORS__LAPOR__VERIFY_TLS": "false",
        "BRIDGE_ROUTES__SIDUMAS_TO_LAPOR__INTERVAL_SECONDS": "12.5",
    }

    config = load(env=env)

    assert setting(config, "lapor", "page_size") == 25
    assert setting(config, "lapor", "verify_tls") is False
    assert config.route("sidumas-to-lapor").interval_seconds == 12.5


def test_text_keys_keep_numeric_looking_values_as_text(load: Loader) -> None:
    """A numeric secret stays the exact text given (no 00123 → 123)."""
    env = {**SECRETS, "BRIDGE_CONNECTORS__LAPOR__API_KEY": "00123"}

    assert setting(load(env=env), "lapor", "api_key").get_secret_value() == "00123"


def test_route_overridden_by_name(load: Loader) -> None:
    """BRIDGE_ROUTES__<ROUTE NAME>__<KEY> overrides a route, dashes written as underscores."""
    env = {**SECRETS, "BRIDGE_ROUTES__SIDUMAS_TO_LAPOR__ENABLED": "false"}

    assert load(env=env).route("sidumas-to-lapor").enabled is False


def test_daemon_key_from_environment(load: Loader) -> None:
    """BRIDGE_DAEMON__LOG_LEVEL overrides [daemon] log_level."""
    env = {**SECRETS, "BRIDGE_DAEMON__LOG_LEVEL": "debug"}

    assert load(env=env).daemon.log_level == "debug"


def test_connector_defined_from_environment_with_type(load: Loader) -> None:
    """Variables for a connector not in the file define one when __TYPE is among them."""
    env = {
        **SECRETS,
        "BRIDGE_CONNECTORS__SPARE__BASE_URL": "https://spare.example",
        "BRIDGE_CONNECTORS__SPARE__TYPE": "rest-like",
    }

    config = load(env=env)

    assert setting(config, "spare", "base_url") == "https://spare.example"


def test_variable_for_unknown_connector_without_type_is_an_error(load: Loader) -> None:
    """A variable naming a connector that is not defined anywhere is reported with the fix."""
    env = {**SECRETS, "BRIDGE_CONNECTORS__LAPR__BASE_URL": "https://x.example"}

    with pytest.raises(ConfigError) as caught:
        load(env=env)

    (problem,) = caught.value.problems
    assert "BRIDGE_CONNECTORS__LAPR__BASE_URL: no connector named 'lapr'" in problem
    assert "BRIDGE_CONNECTORS__LAPR__TYPE" in problem


def test_variable_for_unknown_route_is_an_error(load: Loader) -> None:
    """A variable naming a route that does not exist lists the routes that do."""
    env = {**SECRETS, "BRIDGE_ROUTES__NOPE__ENABLED": "false"}

    with pytest.raises(ConfigError, match="defined routes: sidumas-to-lapor"):
        load(env=env)


def test_variable_of_unknown_shape_is_an_error(load: Loader) -> None:
    """BRIDGE_ variables with __ that fit no section are reported, not ignored."""
    env = {**SECRETS, "BRIDGE_LEDGR__URL": "sqlite://", "BRIDGE_LEDGER__A__B": "x"}

    with pytest.raises(ConfigError) as caught:
        load(env=env)

    assert len(caught.value.problems) == 2
    assert all("not a setting" in p for p in caught.value.problems)


def test_variables_without_double_underscore_are_not_settings(
    load: Loader, config_dir: Path
) -> None:
    """BRIDGE_CONFIG and other plain BRIDGE_ variables are left alone."""
    env = {**SECRETS, "BRIDGE_DEBUG": "1", "OTHER__THING": "x"}

    assert load(env=env).ledger.url == f"sqlite:///{config_dir}/bridge.db"


def test_unknown_key_from_environment_names_the_variable(load: Loader) -> None:
    """An unknown key set from the environment is reported with the variable that set it."""
    env = {**SECRETS, "BRIDGE_CONNECTORS__LAPOR__BASE_ULR": "https://x.example"}

    with pytest.raises(ConfigError) as caught:
        load(env=env)

    (problem,) = caught.value.problems
    assert problem.startswith("connectors.lapor.base_ulr: unknown key; did you mean 'base_url'?")
    assert "BRIDGE_CONNECTORS__LAPOR__BASE_ULR" in problem
