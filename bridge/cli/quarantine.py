"""``bridge quarantine``: the quarantined records (set aside), and what a person can do
about them.

``list`` and ``show`` read the ledger. ``retry`` marks records to be fetched again
from their source and, unless ``--later``, runs one cycle of each route concerned at
once, so the records take the normal path: a fixed mapping (or a record fixed in its
source) lets the quarantined records through. ``drop`` forgets a record handled by hand.

Stored records were masked before they were quarantined: ``show`` prints no personal
data, and nothing here prints a secret.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

from bridge.cli.as_json import echo, items_document
from bridge.cli.common import cycle_each, load_settings, open_ledger
from bridge.cli.options import ConfigOption, JsonOption, RouteOption
from bridge.cli.render import err, item_list, out, print_report, shortened, when
from bridge.errors import ConfigError

if TYPE_CHECKING:
    from bridge.config import BridgeConfig
    from bridge.ledger import Ledger, QuarantineInfo

quarantine_app = typer.Typer(
    help="Quarantined records (set aside): list them, show one, retry them, or drop one.",
    no_args_is_help=True,
)


@quarantine_app.command("list")
def list_(
    config: ConfigOption = None, route: RouteOption = None, as_json: JsonOption = False
) -> None:
    """Every quarantined record: id, route, source id, reason, attempts."""
    ledger = open_ledger(config)
    try:
        items = sorted(ledger.quarantine.listed(route), key=lambda q: q.id)
    finally:
        ledger.close()
    if as_json:
        echo(items_document(items))
        return
    if not items:
        out.print("Nothing is quarantined.")
        return
    listed = [
        (
            [
                f"#{item.id}",
                item.route,
                f"{item.system} {item.source_id}",
                f"attempts {item.attempts}",
                f"seen {when(item.last_seen)}",
                "retry asked" if item.retry_requested_at else "",
            ],
            item.reason,
        )
        for item in items
    ]
    out.print(item_list(f"quarantined: {len(items)}", listed))
    out.print("Details: bridge quarantine show ID · after a fix: bridge quarantine retry --all")


@quarantine_app.command()
def show(
    item_id: Annotated[
        int, typer.Argument(metavar="ID", help="The id shown by `bridge quarantine list`.")
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One quarantined record: the whole reason, and its stored (masked) native record."""
    ledger = open_ledger(config)
    try:
        item = ledger.quarantine.item(item_id)
    finally:
        ledger.close()
    if item is None:
        _missing(item_id)
    if as_json:
        echo(items_document([item])[0])
        return
    title = Text(f"#{item.id} {item.system} record {item.source_id!r} (route {item.route})")
    out.print(title, style="bold")
    out.print(f"reason:     {item.reason}", markup=False, highlight=False)
    if item.field:
        out.print(f"field:      {item.field}", markup=False)
    out.print(f"attempts:   {item.attempts}")
    out.print(f"first seen: {when(item.first_seen)}   last seen: {when(item.last_seen)}")
    if item.retry_requested_at:
        out.print(f"retry asked at {when(item.retry_requested_at)}: the next cycle tries again")
    out.print("record (personal data masked):")
    out.print(_pretty(item.record_json), markup=False, highlight=False)


@quarantine_app.command()
def retry(
    item_ids: Annotated[
        list[int] | None,
        typer.Argument(metavar="ID...", help="Ids shown by `bridge quarantine list`."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every quarantined record.")] = False,
    route: RouteOption = None,
    later: Annotated[
        bool,
        typer.Option("--later", help="Only mark them; the running daemon retries them."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Fetch records again from their source and send them along the normal path.

    Fix the cause first (the mapping file, or the record in its source); then retry.
    """
    from bridge.daemon import open_for_cycles

    if bool(item_ids) == all_:
        raise ConfigError(
            ["name the records to retry (their ids), or pass --all, but not both"],
            source="bridge quarantine retry",
        )
    settings = load_settings(config, log_format="console")
    # A retry runs cycles that may create complaints: the same check as `bridge sync`.
    ledger = open_for_cycles(settings)
    try:
        marked = ledger.quarantine.request_retry(item_ids or None, route=route)
        if item_ids:
            found = {m.id for m in marked}
            unknown = [i for i in item_ids if i not in found]
            if unknown:
                err.print(f"No quarantined record with id {', '.join(map(str, unknown))}.")
        if not marked:
            out.print("Nothing to retry.")
            raise typer.Exit(1 if item_ids else 0)
        if later:
            out.print(
                f"Marked {len(marked)} record(s); the next cycle of their route retries them."
            )
            return
        failed = _run_routes(settings, ledger, sorted({m.route for m in marked}))
        _print_outcome(ledger, marked)
    finally:
        ledger.close()
    raise typer.Exit(1 if failed else 0)


@quarantine_app.command()
def drop(
    item_id: Annotated[
        int, typer.Argument(metavar="ID", help="The id shown by `bridge quarantine list`.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
    config: ConfigOption = None,
) -> None:
    """Forget a quarantined record, once it has been handled by hand.

    If the source lists it again, it is tried again like any other record.
    """
    ledger = open_ledger(config)
    try:
        item = ledger.quarantine.item(item_id)
        if item is None:
            _missing(item_id)
        if not yes:
            typer.confirm(
                f"Drop {item.system} record {item.source_id!r} ({item.route})?", abort=True
            )
        ledger.quarantine.drop(item_id)
    finally:
        ledger.close()
    out.print(f"Dropped #{item_id}.")


def _run_routes(settings: BridgeConfig, ledger: Ledger, names: list[str]) -> bool:
    """One cycle of each named route, now, under its lease; True when any did not go well.

    A route whose lease a running daemon holds is left to it: the records stay marked,
    and that daemon's next cycle retries them.
    """
    from bridge.sync import CycleOptions, build_routes, close_routes

    failed = False
    for name in names:
        if name not in {r.name for r in settings.routes}:
            err.print(f"Route {name!r} is no longer configured: its records stay quarantined.")
            failed = True
            continue
        routes = build_routes(settings, ledger, only=name)
        try:
            options = CycleOptions(respect_pause=False)
            reports, held = cycle_each(routes, ledger, options, settings.daemon.lease_seconds)
        finally:
            close_routes(routes)
        for message in held:
            err.print(message, markup=False, highlight=False)
            err.print("The records stay marked; that replica's next cycle retries them.")
        for report in reports:
            print_report(report)
        failed = failed or bool(held) or not all(r.ok for r in reports)
    return failed


def _print_outcome(ledger: Ledger, marked: list[QuarantineInfo]) -> None:
    still = {q.id: q for q in ledger.quarantine.listed()}
    delivered = [m for m in marked if m.id not in still]
    out.print(f"[green]{len(delivered)} of {len(marked)} retried record(s) went through.[/green]")
    for item in marked:
        if item.id in still:
            reason = shortened(still[item.id].reason)
            out.print(f"  still quarantined #{item.id} {item.source_id}: {reason}", markup=False)


def _missing(item_id: int) -> NoReturn:
    err.print(f"No quarantined record with id {item_id}; `bridge quarantine list` shows them.")
    raise typer.Exit(1)


def _pretty(record_json: str) -> str:
    try:
        text = json.dumps(json.loads(record_json), indent=2, ensure_ascii=False, sort_keys=True)
    except json.JSONDecodeError:
        return record_json
    # A lone surrogate (kept escaped in the ledger) cannot be printed: show "?" instead.
    return text.encode("utf-8", "replace").decode("utf-8")
