"""``bridge status`` and ``bridge trace``: what the ledger says, per route and per complaint."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group

from bridge.cli.as_json import echo, status_document, trace_document
from bridge.cli.common import load_settings, open_ledger
from bridge.cli.options import ConfigOption, JsonOption
from bridge.cli.render import (
    err,
    health_table,
    item_list,
    lease_table,
    out,
    print_trace,
    status_table,
    when,
)

if TYPE_CHECKING:
    from bridge.ledger.notices import Notice


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Per route: the last cycle, its counts and error, what waits, and which replica runs it."""
    from bridge.ledger import Ledger

    settings = load_settings(config, log_format="console")
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        statuses = {route.name: ledger.cycles.status(route.name) for route in settings.routes}
        ends = {end for r in settings.routes for end in (r.source, r.target)}
        notices = ledger.notices.listed(sorted(ends))
        if as_json:
            document = status_document(ledger.url_for_display, statuses, ledger.leases.listed())
            echo(document | {"notices": [dataclasses.asdict(n) for n in notices]})
            return
        table = status_table(ledger.url_for_display, statuses)
        health = health_table(ledger)
        leases = lease_table(ledger, [r.name for r in settings.routes])
    finally:
        ledger.close()
    out.print(table)
    # The columns "quarantined" and "to review": say where a person sees which ones.
    if any(st.quarantined for st in statuses.values()):
        out.print("Quarantined: bridge quarantine list")
    if any(st.reviews for st in statuses.values()):
        out.print("To review: bridge review list")
    out.print(leases)
    if health is not None:
        out.print(health)
    if notices:
        out.print(notice_list(notices))


def notice_list(notices: list[Notice]) -> Group:
    """What connectors said about their set-up in their last cycle, each with its fix."""
    items = [
        ((n.system, f"since {when(n.first_seen)}", f"last {when(n.last_seen)}"), n.text)
        for n in notices
    ]
    return item_list("Connector notices (see `bridge doctor`)", items)


def trace(
    complaint_id: Annotated[
        str,
        typer.Argument(
            help="Any number a person knows: a ticket (SDM-2026-000002, a LAPOR! tracking id), "
            "a system's record id, or a bridge ref."
        ),
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show every linked record of a complaint and its history."""
    ledger = open_ledger(config)
    try:
        traces = ledger.history.find(complaint_id)
    finally:
        ledger.close()
    if not traces:
        message = (
            f"No complaint with ticket, id or reference {complaint_id!r} in the ledger. "
            "Try the ticket number shown to the reporter, the LAPOR! tracking id, the "
            "record id in the local system, or a bridge ref from `bridge status`; a "
            "complaint appears here only after a sync has seen it."
        )
        err.print(message, markup=False, highlight=False)
        raise typer.Exit(1)
    if as_json:
        echo([trace_document(found) for found in traces])
        return
    for found in traces:
        print_trace(found)
