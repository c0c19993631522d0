"""Stateful simulators of the remote systems the bridge talks to: LAPOR! v3, SIDUMAS, Open311.

Each simulator is a FastAPI app over a state object: `lapor.create_app` /
`LaporState`, `sidumas.create_app` / `SidumasState` (both can persist to a JSON file),
`open311.create_app` / `Open311State` (in memory only). Every app injects faults on
request (`faults`). `server` runs an app over real HTTP; `run_cli` is what
`bridge simulate` calls.

They need the web stack of the `simulators` extra (`pip install 'lapor-bridge[simulators]'`),
which a production install leaves out: importing this package without it raises ConfigError
saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.util import find_spec
from typing import Any

from bridge.errors import ConfigError

logger = logging.getLogger(__name__)

# The import name of each package of the `simulators` extra, and the name pip knows it by.
WEB_STACK = {"fastapi": "fastapi", "uvicorn": "uvicorn", "python_multipart": "python-multipart"}


def require_simulators() -> None:
    """Raise ConfigError naming the `simulators` extra when its web stack is not installed.

    So `bridge demo` and `bridge simulate` say what to install rather than fail on an import
    deep inside the simulators.
    """
    missing = [package for module, package in WEB_STACK.items() if find_spec(module) is None]
    if missing:
        problem = (
            f"the simulators need {', '.join(missing)}, which this installation lacks: "
            "pip install 'lapor-bridge[simulators]'"
        )
        raise ConfigError([problem], source="lapor-bridge")


# Checked on import, so every way in (the CLI's demo and simulate, a test, a script) gets the
# message before a submodule's `import fastapi` fails.
require_simulators()

KINDS = ("lapor", "sidumas", "open311")


def _build(kind: str, state_path: str | None, seed: int) -> Any:
    # Imported here so that importing the package stays cheap for code that needs only one of them.
    if kind == "lapor":
        from bridge.testing.simulators import lapor, lapor_state

        lapor_db = lapor_state.LaporState(state_path)
        lapor_db.seed_from_corpus(seed)
        return lapor.create_app(lapor_db)
    if kind == "sidumas":
        from bridge.testing.simulators import sidumas, sidumas_state

        sidumas_db = sidumas_state.SidumasState(state_path)
        sidumas_db.seed(seed)
        return sidumas.create_app(sidumas_db)
    if kind == "open311":
        from bridge.testing.simulators import open311, open311_state

        if state_path is not None:
            raise ValueError("the open311 simulator keeps its state in memory only: no state file")
        open311_db = open311_state.Open311State()
        open311_db.seed(seed)
        return open311.create_app(open311_db)
    raise ValueError(f"unknown simulator {kind!r}; choose one of {', '.join(KINDS)}")


def build_app(
    kind: str,
    state_path: str | None = None,
    seed: int = 0,
    faults: Mapping[str, Any] | None = None,
) -> Any:
    """Build the simulator `kind`, seeded with `seed` corpus complaints unless already seeded.

    `faults`: initial fault switches, as `POST /_sim/faults` takes them (`faults`).
    """
    app = _build(kind, state_path, seed)
    if faults:
        app.state.faults.configure(faults)
    return app


def run_cli(
    kind: str,
    port: int,
    state_path: str | None,
    seed: int,
    host: str = "127.0.0.1",
    faults: Mapping[str, Any] | None = None,
) -> None:
    """Serve simulator `kind` on `host:port` until interrupted.

    `state_path`: JSON file to load from and save to (None = in memory only; open311 has no file).
    `seed`: how many corpus complaints to create at start; a persisted state that was seeded
    before is not seeded again, so a second run reuses the same records.
    `faults`: initial fault switches (`faults.parse_spec` reads the CLI's form).
    """
    from bridge.testing.simulators.server import serve_forever

    app = build_app(kind, state_path, seed, faults)
    logger.info("simulator.starting", extra={"kind": kind, "port": port, "state_path": state_path})
    serve_forever(app, host, port)
