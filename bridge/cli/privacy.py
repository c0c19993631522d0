"""``bridge privacy``: personal data the bridge keeps, and for how long.

``purge`` forgets the stored payloads of records set aside longer than
``[ledger] quarantine_retention_days`` (the daemon also does it once a day); the
quarantine rows, their masked reasons and the complaints' histories stay.
"""

from __future__ import annotations

from typing import Annotated

import typer

from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption
from bridge.cli.render import out
from bridge.ledger import Ledger

privacy_app = typer.Typer(
    help="Personal data the bridge keeps: purge old set-aside payloads.",
    no_args_is_help=True,
)


@privacy_app.command("purge")
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be purged.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Purge the stored payloads of records set aside longer than the retention setting."""
    settings = load_settings(config, log_format="console")
    days = settings.ledger.quarantine_retention_days
    if days == 0:
        out.print("quarantine_retention_days is 0: set-aside payloads are kept for ever.")
        return
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        purged = ledger.quarantine.purge(days, dry_run=dry_run)
    finally:
        ledger.close()
    verb = "would be purged" if dry_run else "purged"
    out.print(f"{len(purged)} set-aside payload(s) older than {days} day(s) {verb}.")
    for route in sorted({item.route for item in purged}):
        count = sum(1 for item in purged if item.route == route)
        out.print(f"  route {route}: {count}", markup=False, highlight=False)
