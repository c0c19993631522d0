"""Configuration problems: every one reported at once, each with its key path and fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bridge.config import load_config
from bridge.errors import ConfigError
from tests.config.config_fakes import LAPOR_GUID, LAPOR_KEY, SECRETS, TYPES, VALID, Loader, setting


def _problems(load: Loader, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text, env)
    return caught.value.problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VALID + "\n[extra]\n", "extra: unknown key"),
        (VALID.replace("[ledger]\n", "[ledger]\npath = 1\n"), "ledger.path: unknown key"),
        (VALID.replace("[daemon]\n", "[daemon]\nlog_fmt = 1\n"), "daemon.log_fmt: unknown key"),
        (
            VALID.replace('auth = "login"', 'auth = "login"\nuser = "x"'),
            "connectors.sidumas.user: unknown key",
        ),
        (VALID + "retries = 3\n", "routes.sidumas-to-lapor.retries: unknown key"),
    ],
)
def test_unknown_keys_are_errors_at_every_level(load: Loader, text: str, expected: str) -> None:
    """An unknown key anywhere in the file is reported with its key path."""
    problems = _problems(load, text)

    assert len(problems) == 1
    assert problems[0].startswith(expected)


def test_unknown_key_suggests_the_close_one(load: Loader) -> None:
    """A misspelt key is answered with the key that was probably meant."""
    (problem,) = _problems(load, VALID.replace("interval_seconds", "interval_second"))

    assert "did you mean 'interval_seconds'?" in problem


def test_all_problems_are_reported_at_once(load: Loader) -> None:
    """Problems in several sections come in one ConfigError, one line each."""
    text = VALID.replace('log_format = "json"', 'log_format = "xml"')
    text = text.replace('base_url = "https://lapor.example/3.0.0"\n', "")
    text = text.replace('target = "lapor"', 'target = "lapr"')

    problems = _problems(load, text, {})

    assert len(problems) == 5
    joined = "\n".join(problems)
    for fragment in (
        "daemon.log_format: Input should be 'auto', 'json' or 'console'",
        "connectors.lapor.base_url is missing",
        "connectors.lapor.api_key is missing",
        "connectors.lapor.api_guid is missing",
        "routes.sidumas-to-lapr.target: no connector named 'lapr'",
    ):
        assert fragment in joined


def test_error_names_the_file(load: Loader, config_dir: Path) -> None:
    """The ConfigError's message starts with the file it is about and the problem count."""
    with pytest.raises(ConfigError) as caught:
        load(VALID, {})

    assert str(caught.value).startswith(f"{config_dir / 'bridge.toml'} has 2 problem(s):")


def test_missing_secret_names_the_exact_variable(load: Loader) -> None:
    """A required secret that is absent says which environment variable to set."""
    problems = _problems(load, VALID, {"BRIDGE_CONNECTORS__LAPOR__API_GUID": LAPOR_GUID})

    assert problems == [
        "connectors.lapor.api_key is missing: set the environment variable "
        "BRIDGE_CONNECTORS__LAPOR__API_KEY (keep secrets out of the TOML file)"
    ]


def test_missing_plain_key_says_where_to_add_it(load: Loader) -> None:
    """A required non-secret key that is absent names the table and the variable."""
    text = VALID.replace('base_url = "https://sidumas.example/api/"\n', "")

    (problem,) = _problems(load, text)

    assert problem == (
        "connectors.sidumas.base_url is missing: add `base_url = ...` to "
        "[connectors.sidumas] or set BRIDGE_CONNECTORS__SIDUMAS__BASE_URL"
    )


def test_unknown_connector_type_lists_known_types(load: Loader) -> None:
    """A `type` no installed connector has is reported with the types that exist."""
    (problem,) = _problems(load, VALID.replace('"rest-like"', '"soap"'))

    assert problem == (
        "connectors.sidumas.type: unknown connector type 'soap'; "
        "known types: lapor-like, memory, rest-like"
    )


def test_missing_connector_type_is_an_error(load: Loader) -> None:
    """A connector table without `type` is reported."""
    (problem,) = _problems(load, VALID.replace('type = "rest-like"\n', ""))

    assert problem.startswith("connectors.sidumas.type is missing")


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (
            'source = "sidumas"\ntarget = "nowhere"',
            "routes.sidumas-to-nowhere.target: no connector",
        ),
        ('source = "nowhere"\ntarget = "lapor"', "routes.nowhere-to-lapor.source: no connector"),
        ('source = "lapor"\ntarget = "lapor"', "source and target are the same connector"),
        ('name = "sidumas-to-lapor"\nsource = "lapor"\ntarget = "sidumas"', "two routes"),
    ],
)
def test_bad_routes_are_errors(load: Loader, route: str, expected: str) -> None:
    """Routes must name defined connectors, differ from each other and join two connectors."""
    (problem,) = _problems(load, f"{VALID}\n[[routes]]\n{route}\n")

    assert expected in problem


def test_route_to_an_invalid_connector_is_not_reported_twice(load: Loader) -> None:
    """A route naming a connector that failed validation only reports the connector."""
    problems = _problems(load, VALID, {"BRIDGE_CONNECTORS__LAPOR__API_KEY": LAPOR_KEY})

    assert problems == [
        "connectors.lapor.api_guid is missing: set the environment variable "
        "BRIDGE_CONNECTORS__LAPOR__API_GUID (keep secrets out of the TOML file)"
    ]


def test_invalid_values_are_reported(load: Loader) -> None:
    """A value of the wrong kind is reported with its key path."""
    text = VALID.replace("interval_seconds = 60", "interval_seconds = 0\nenabled = 'sometimes'")

    problems = _problems(load, text)

    assert problems == [
        "routes.sidumas-to-lapor.interval_seconds: Input should be greater than 0",
        "routes.sidumas-to-lapor.enabled: Input should be a valid boolean, "
        "unable to interpret input",
    ]


def test_wrong_section_shapes_are_errors(load: Loader) -> None:
    """Sections written as the wrong TOML shape say how to write them."""
    text = 'ledger = "sqlite://"\nroutes = "all"\n[connectors]\nlapor = 1\n'

    problems = _problems(load, text, {})

    assert problems == [
        "ledger: must be a table, written [ledger]",
        "routes: must be an array of tables, each written [[routes]]",
        "connectors.lapor: must be a table, written [connectors.lapor]",
    ]


def test_missing_file_says_where_it_looked_and_what_to_do(tmp_path: Path) -> None:
    """A missing file names the path and suggests copying the example."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "bridge.toml", {}, types=TYPES)

    (problem,) = caught.value.problems
    assert str(tmp_path / "bridge.toml") in problem
    assert "cp config.example.toml bridge.toml" in problem


def test_missing_default_file_says_bridge_config_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no path and no $BRIDGE_CONFIG, the message explains ./bridge.toml was the default."""
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigError) as caught:
        load_config(None, {}, types=TYPES)

    (problem,) = caught.value.problems
    assert f"no configuration file at {tmp_path / 'bridge.toml'} (the default" in problem


def test_toml_syntax_error_is_a_config_error(load: Loader) -> None:
    """A file that is not TOML is reported with the line of the mistake."""
    (problem,) = _problems(load, "[ledger\nurl = 1\n")

    assert problem.startswith("not valid TOML:")
    assert "line 1" in problem


def test_mapping_file_that_does_not_exist_is_an_error(load: Loader, config_dir: Path) -> None:
    """A `mapping` naming no file is reported with the resolved path."""
    (problem,) = _problems(load, VALID.replace("mappings/lapor.toml", "mappings/lapr.toml"))

    assert problem.startswith(f"connectors.lapor.mapping: no mapping file at {config_dir}")


def test_secrets_never_appear_in_repr_or_errors(load: Loader) -> None:
    """Secret values show in neither repr(config) nor any ConfigError text."""
    config = load()
    assert LAPOR_KEY not in repr(config)
    assert LAPOR_GUID not in repr(config)

    broken = VALID.replace(
        'auth = "login"', 'auth = "login"\npassword = 12345\nsecret = "s3cr3t-xyz"'
    )
    with pytest.raises(ConfigError) as caught:
        load(broken, {**SECRETS, "BRIDGE_CONNECTORS__LAPOR__BASE_URL2": "hunter2-value"})

    text = str(caught.value)
    assert len(caught.value.problems) == 3
    for secret in ("12345", "s3cr3t-xyz", "hunter2-value", LAPOR_KEY, LAPOR_GUID):
        assert secret not in text


def test_ledger_password_is_masked_in_repr(load: Loader) -> None:
    """A password inside the ledger URL does not show in repr(config)."""
    url = "postgresql+psycopg://bridge:pg-pass-991@127.0.0.1:5432/bridge"

    config = load(env={**SECRETS, "BRIDGE_LEDGER__URL": url})

    assert config.ledger.url == url
    assert "pg-pass-991" not in repr(config)


def test_secret_written_in_file_is_accepted_with_a_warning(load: Loader) -> None:
    """A secret in the TOML works but logs config.secret_in_file with the key path only."""
    text = VALID.replace('auth = "login"', 'auth = "login"\npassword = "file-pass-77"')

    with capture_logs() as logs:
        config = load(text)

    assert setting(config, "sidumas", "password").get_secret_value() == "file-pass-77"
    assert logs == [
        {
            "event": "config.secret_in_file",
            "log_level": "warning",
            "key_path": "connectors.sidumas.password",
            "use_instead": "BRIDGE_CONNECTORS__SIDUMAS__PASSWORD",
        }
    ]
