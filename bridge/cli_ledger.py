"""``bridge ledger``: looking after the ledger itself.

``rename-system`` is how a connector is renamed safely. The ledger knows each system
by its connector's name, and a complaint's reference is derived from it, so a name
changed in the configuration alone would make every record look new and send it
again; the bridge refuses to start in that state (``bridge.routes.check_systems``).
Run it with every bridge stopped, after renaming the connector in the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from bridge.cli_common import ConfigOption, load_settings
from bridge.errors import ConfigError
from bridge.ledger import Ledger, SystemNameTaken

ledger_app = typer.Typer(help="Look after the ledger: rename a system.", no_args_is_help=True)

out = Console()
err = Console(stderr=True)


@ledger_app.command("rename-system")
def rename_system(
    old: Annotated[str, typer.Argument(metavar="OLD", help="The connector's former name.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its name in the configuration now.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
    config: ConfigOption = None,
) -> None:
    """Move everything the ledger remembers of system OLD to the name NEW.

    Rename the connector in the configuration file first, stop every bridge using this
    ledger, run this, then start them again.
    """
    settings = load_settings(config, log_format="console")
    if new not in settings.connectors:
        raise ConfigError(
            [f"no connector named {new!r}: rename [connectors.{old}] to [connectors.{new}] first"],
            source="bridge ledger rename-system",
        )
    ledger = Ledger.open(settings.ledger.url)
    try:
        linked = ledger.linked_systems().get(old, 0)
        if not linked:
            err.print(f"The ledger holds no linked record of system {old!r}: nothing to rename.")
            raise typer.Exit(1)
        now = datetime.now(UTC)
        busy = [lease for lease in ledger.leases() if not lease.is_free(now)]
        for lease in busy:
            err.print(
                f"Route {lease.route} is held by {lease.holder} until {lease.expires_at}: "
                "stop every bridge using this ledger first.",
                markup=False,
            )
        if busy:
            raise typer.Exit(1)
        if not yes:
            question = f"Rename system {old!r} ({linked} linked records) to {new!r}?"
            typer.confirm(question, abort=True)
        try:
            changed = ledger.rename_system(old, new)
        except SystemNameTaken as exc:
            err.print(
                f"Not renamed: {exc}. The bridge already ran under the new name; the two "
                "cannot be merged by a rename. Check the target system for doubles first.",
                markup=False,
            )
            raise typer.Exit(1) from None
    finally:
        ledger.close()
    out.print(f"Renamed {old!r} to {new!r} in the ledger:", markup=False)
    for place, count in sorted(changed.items()):
        out.print(f"  {place}: {count}", markup=False)
