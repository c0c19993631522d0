"""``bridge doctor``: check a set-up end to end, read-only, and say what to change."""

from __future__ import annotations

from typing import Annotated

import typer

from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption
from bridge.cli.render import out


def doctor(
    config: ConfigOption = None,
    limit: Annotated[
        int, typer.Option(help="Records read from each connector to check codes and clocks.")
    ] = 500,
) -> None:
    """Check every connector (reachable, credentials, agency identity, codes, clocks).

    Nothing is written anywhere. Exit code 1 when a problem was found.
    """
    from bridge.doctor import check_all

    settings = load_settings(config, log_format="console")
    findings = check_all(settings, limit=limit)
    for finding in findings:
        out.print(f"[red]✗[/red] {finding.where}: ", end="")
        out.print(finding.problem, markup=False, highlight=False)
        out.print("    fix: ", end="")
        out.print(finding.fix, markup=False, highlight=False)
    if not findings:
        out.print("[green]✓[/green] no problems found")
    raise typer.Exit(1 if findings else 0)
