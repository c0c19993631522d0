"""Stateful simulators of the remote systems the bridge talks to: LAPOR! v3 and SIDUMAS.

Each simulator is a FastAPI app over a state object that can persist to a JSON file:
`simulators.lapor.create_app` / `LaporState`, `simulators.sidumas.create_app` / `SidumasState`.
`simulators.server` runs an app over real HTTP; `run_cli` is what `bridge simulate` calls.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

KINDS = ("lapor", "sidumas")


def build_app(kind: str, state_path: str | None = None, seed: int = 0) -> Any:
    """Build the simulator `kind`, seeded with `seed` corpus complaints unless already seeded."""
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
    raise ValueError(f"unknown simulator {kind!r}; choose one of {', '.join(KINDS)}")


def run_cli(
    kind: str, port: int, state_path: str | None, seed: int, host: str = "127.0.0.1"
) -> None:
    """Serve simulator `kind` on `host:port` until interrupted.

    `state_path`: JSON file to load from and save to (None = in memory only).
    `seed`: how many corpus complaints to create at start; a persisted state that was seeded
    before is not seeded again, so a second run reuses the same records.
    """
    from simulators.server import serve_forever

    app = build_app(kind, state_path, seed)
    logger.info("simulator.starting", extra={"kind": kind, "port": port, "state_path": state_path})
    serve_forever(app, host, port)
