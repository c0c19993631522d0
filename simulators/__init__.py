"""Stateful simulators of the remote systems the bridge talks to: LAPOR! v3, SIDUMAS, Open311.

Each simulator is a FastAPI app over a state object: `simulators.lapor.create_app` /
`LaporState`, `simulators.sidumas.create_app` / `SidumasState` (both can persist to a JSON file),
`simulators.open311.create_app` / `Open311State` (in memory only). Every app injects faults on
request (`simulators.faults`). `simulators.server` runs an app over real HTTP; `run_cli` is what
`bridge simulate` calls.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

KINDS = ("lapor", "sidumas", "open311")


def _build(kind: str, state_path: str | None, seed: int) -> Any:
    # Imported here so that `import simulators` stays cheap for code that needs only one of them.
    if kind == "lapor":
        from simulators import lapor, lapor_state

        lapor_db = lapor_state.LaporState(state_path)
        lapor_db.seed_from_corpus(seed)
        return lapor.create_app(lapor_db)
    if kind == "sidumas":
        from simulators import sidumas, sidumas_state

        sidumas_db = sidumas_state.SidumasState(state_path)
        sidumas_db.seed(seed)
        return sidumas.create_app(sidumas_db)
    if kind == "open311":
        from simulators import open311, open311_state

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

    `faults`: initial fault switches, as `POST /_sim/faults` takes them (`simulators.faults`).
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
    `faults`: initial fault switches (`simulators.faults.parse_spec` reads the CLI's form).
    """
    from simulators.server import serve_forever

    app = build_app(kind, state_path, seed, faults)
    logger.info("simulator.starting", extra={"kind": kind, "port": port, "state_path": state_path})
    serve_forever(app, host, port)
