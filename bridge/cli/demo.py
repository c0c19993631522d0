"""``bridge demo`` and ``bridge simulate``: the command-line side of the demo and the simulators.

Both load the simulators only when run: the web apps behind them are not cheap to import,
and no other command needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.render import out, print_demo
from bridge.errors import ConfigError
from bridge.log import configure_logging


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its state between runs.")
    ] = Path(".demo"),
    count: Annotated[int, typer.Option(help="Complaints to seed into the local door.")] = 50,
) -> None:
    """Run the bridge end to end against simulated LAPOR! and SIDUMAS servers on loopback."""
    from bridge.demo import run_demo  # the demo pulls in the simulators; only load them here

    configure_logging("console", "warning")
    result = run_demo(directory, count=count)
    print_demo(result)
    raise typer.Exit(0 if result.ok else 1)


def simulate(
    kind: Annotated[str, typer.Argument(help="Which simulator: lapor, sidumas or open311.")],
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = 8080,
    state: Annotated[
        Path | None,
        typer.Option(help="JSON file keeping the simulator's state (not for open311)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Complaints to seed when the state is empty.")] = 0,
    faults: Annotated[
        str | None,
        typer.Option(
            help="Faults to inject from the start, e.g. "
            '"error_rate=0.1,latency_ms=50,rate_limit_rate=0.05,retry_after=2,seed=7" '
            "(the keys POST /_sim/faults takes)."
        ),
    ] = None,
) -> None:
    """Serve a simulated LAPOR! v3, SIDUMAS or Open311 API on 127.0.0.1 for tests and demos."""
    # The simulators are imported only here: the package itself is cheap, the apps are not.
    from bridge.testing.simulators import KINDS, run_cli
    from bridge.testing.simulators.faults import FaultError, parse_spec

    problems = [] if kind in KINDS else [f"unknown simulator {kind!r}: choose {', '.join(KINDS)}"]
    if kind == "open311" and state:
        problems.append("--state: the open311 simulator keeps its state in memory only; drop it")
    try:
        switches = parse_spec(faults) if faults else {}
    except FaultError as exc:
        problems += [f"--faults: {problem}" for problem in exc.problems]
    if problems:
        raise ConfigError(problems, source="bridge simulate")
    out.print(f"Serving the {kind} simulator on http://127.0.0.1:{port} (Ctrl-C to stop)")
    run_cli(kind, port, str(state) if state else None, seed, faults=switches)
