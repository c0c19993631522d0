"""TOML file + environment → frozen, validated settings.

The file (``bridge.toml``, or ``$BRIDGE_CONFIG``) has four sections::

    [ledger]              url, state_file, retired_systems
    [daemon]              log_format, log_level
    [connectors.<name>]   type, then the keys of that type's ``Settings`` class
    [[routes]]            name, source, target, interval_seconds, jitter_seconds, enabled

Every key can be set or overridden from the environment as
``BRIDGE_<SECTION>__<NAME>__<KEY>`` (``BRIDGE_LEDGER__URL``,
``BRIDGE_CONNECTORS__LAPOR__API_KEY``, ``BRIDGE_ROUTES__SIDUMAS_TO_LAPOR__ENABLED``),
which is how secrets are meant to arrive: they never have to be written in the file.

Everything is checked before anything runs, and every problem is reported at once in
one ``ConfigError``, each with its key path and what to do about it (vdirsyncer's
lesson: fixing a configuration one error per start is maddening).

The modules, by job:

- ``settings``: the section models and the frozen ``BridgeConfig``; ``build_connector``;
- ``load``: ``load_config``, finding and reading the file and splitting it into sections;
- ``validate``: each section checked against its model, pydantic's errors as problem lines;
- ``env``: which table and key each ``BRIDGE_…`` variable sets, and its text as a value.

The rest of the bridge imports the names below from ``bridge.config`` only.
"""

from __future__ import annotations

from bridge.config.env import secret_env_var
from bridge.config.load import CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE, load_config
from bridge.config.settings import (
    DEFAULT_STATE_FILE,
    BridgeConfig,
    ConnectorTypes,
    DaemonSettings,
    LedgerSettings,
    RouteSettings,
    build_connector,
)

__all__ = [
    "CONFIG_ENV_VAR",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_STATE_FILE",
    "BridgeConfig",
    "ConnectorTypes",
    "DaemonSettings",
    "LedgerSettings",
    "RouteSettings",
    "build_connector",
    "load_config",
    "secret_env_var",
]
