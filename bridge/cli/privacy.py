"""``bridge privacy``: personal data the bridge sends and keeps, and for how long.

``report --since DATE`` is the record of processing for a data-protection officer (or a
breach notice within 72 hours): per system, which complaints' personal fields left the
bridge toward it, by reference and the system's record id; which anonim complaints left
with the identity removed; which follow-ups were copied. Names and ids only, never values.

``purge`` forgets the stored payloads of records set aside longer than
``[ledger] quarantine_retention_days`` (the daemon also does it once a day); the
quarantine rows, their masked reasons and the complaints' histories stay.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption
from bridge.cli.render import out

if TYPE_CHECKING:
    from bridge.ledger.processing import SentCopy

privacy_app = typer.Typer(
    help="Personal data the bridge sends and keeps: the record of processing, and the purge.",
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
    from bridge.ledger import Ledger

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


@privacy_app.command("report")
def report(
    since: Annotated[
        datetime,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
            help="From this date (UTC unless a zone is given), e.g. 2026-03-01.",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for other tools.")] = False,
    config: ConfigOption = None,
) -> None:
    """Which complaints' personal fields left the bridge toward each system since DATE."""
    from bridge.ledger import Ledger
    from bridge.ledger.processing import sent_since

    settings = load_settings(config, log_format="console")
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        copies = sent_since(ledger.db, since if since.tzinfo else since.replace(tzinfo=UTC))
    finally:
        ledger.close()
    summary = summarise(copies)
    if as_json:
        text = json.dumps({"since": since.isoformat(), "systems": summary}, indent=2)
        out.print(text, markup=False, highlight=False)
        return
    _print(since, summary)


def summarise(copies: list[SentCopy]) -> dict[str, dict[str, Any]]:
    """Per system: complaints sent (ref → its id there), per personal field, anonim, follow-ups."""
    from bridge.privacy.processing import PERSONAL_FIELDS

    systems: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "complaints": {},
            "fields": {f: [] for f in PERSONAL_FIELDS},
            "anonim": [],
            "rahasia": [],
            "followups": [],
        }
    )
    for copy in copies:
        entry = systems[copy.system]
        if copy.kind == "followup":
            entry["followups"].append({"ref": copy.ref, "remote_id": copy.remote_id})
            continue
        entry["complaints"][copy.ref] = copy.remote_id
        for name in copy.personal:
            entry["fields"].setdefault(name, []).append(copy.ref)
        if copy.anonymous:
            entry["anonim"].append(copy.ref)
        if copy.secret:
            entry["rahasia"].append(copy.ref)
    return {name: systems[name] for name in sorted(systems)}


def _print(since: datetime, summary: dict[str, dict[str, Any]]) -> None:
    out.print(f"Personal data sent since {since.isoformat()} (names and ids only, never values)")
    if not summary:
        out.print("Nothing left the bridge in that time.")
    for system, entry in summary.items():
        out.print(f"\n{system}: {len(entry['complaints'])} complaint(s)", markup=False)
        for ref, remote_id in entry["complaints"].items():
            out.print(f"  {ref} -> {remote_id}", markup=False, highlight=False)
        for name, refs in entry["fields"].items():
            if refs:
                listed = ", ".join(refs)
                out.print(f"  {name}: {len(refs)} ({listed})", markup=False, highlight=False)
        if entry["anonim"]:
            listed = ", ".join(entry["anonim"])
            out.print(
                f"  anonim, identity removed: {len(entry['anonim'])} ({listed})",
                markup=False,
                highlight=False,
            )
        if entry["rahasia"]:
            listed = ", ".join(entry["rahasia"])
            out.print(
                f"  rahasia: {len(entry['rahasia'])} ({listed})", markup=False, highlight=False
            )
        if entry["followups"]:
            listed = ", ".join(f"{f['ref']} -> {f['remote_id']}" for f in entry["followups"])
            out.print(
                f"  follow-ups copied: {len(entry['followups'])} ({listed})",
                markup=False,
                highlight=False,
            )
