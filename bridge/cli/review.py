"""``bridge review``: complaints a person must look at, and saying that one was looked at.

A review flag is raised where the bridge will not guess: a raw status the mapping does
not know, a status change the workflow forbids, a side moving backwards, a write the
target refused, a follow-up it cannot read, a linked record gone from its system. Unlike
a quarantined record (``bridge quarantine``), the complaint itself is in sync; only this
one change waits for a person.

``done`` closes a flag. If the cause is still there, the next sighting opens it again,
so closing a flag never hides a problem. Nothing here prints personal data: a flag
holds codes and the complaint's reference, never the complaint's text.

Duplicate candidates (a record that may be a complaint another door brought already)
wait here too: ``duplicates``, ``compare``, ``link``, ``not-duplicate``, ``split``
(``bridge.cli.review_duplicates``, registered on this group by ``bridge.cli.app``).
"""

from __future__ import annotations

import json
from typing import Annotated, NoReturn

import typer
from rich.text import Text

from bridge.cli.as_json import echo, items_document
from bridge.cli.common import open_ledger
from bridge.cli.options import ConfigOption, JsonOption, RouteOption
from bridge.cli.render import err, item_list, out, when

review_app = typer.Typer(
    help="Complaints waiting for a person: list them, and close the ones handled.",
    no_args_is_help=True,
)

# What a person does about each kind of flag: the line `list` prints under its table.
WHAT_TO_DO = {
    "status": "a status the mapping does not know or the workflow forbids: add the raw code "
    "to the mapping's [values] (then restart), or set the status by hand on one side",
    "write": "the target refused a change: see the reason, fix the record or the mapping",
    "unreadable": "a linked record no longer maps: fix the mapping or the record at its source",
    "followup": "a follow-up that does not map: fix the mapping's [followups]",
    "missing": "a linked record is gone from its system: check whether it was deleted there",
}


@review_app.command("list")
def list_(
    config: ConfigOption = None,
    route: RouteOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Closed flags too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Flags waiting for a person: id, route, complaint, system, kind, reason, sightings."""
    ledger = open_ledger(config)
    try:
        items = sorted(ledger.reviews.listed(route, include_resolved=all_), key=lambda r: r.id)
    finally:
        ledger.close()
    if as_json:
        echo(items_document(items))
        return
    if not items:
        out.print("Nothing waits for review.")
        return
    listed = [
        (
            [
                f"#{item.id}",
                item.route,
                f"complaint {item.ref}",
                item.system,
                item.kind,
                f"seen {item.count}×",
                f"seen last {when(item.last_seen)}",
                ("closed" if item.resolved else "open") if all_ else "",
            ],
            item.reason,
        )
        for item in items
    ]
    out.print(item_list(f"to review: {sum(not r.resolved for r in items)}", listed))
    for kind in sorted({item.kind for item in items}):
        out.print(f"  {kind}: {WHAT_TO_DO.get(kind, 'see the reason')}", markup=False)
    out.print("Details: bridge review show ID · history: bridge trace REF · bridge review done ID")


@review_app.command()
def show(
    review_id: Annotated[
        int, typer.Argument(metavar="ID", help="The id shown by `bridge review list`.")
    ],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One flag: the whole reason and what the bridge saw."""
    ledger = open_ledger(config)
    try:
        found = ledger.reviews.by_ids([review_id])
    finally:
        ledger.close()
    if not found:
        _missing([review_id])
    (item,) = found
    if as_json:
        echo(items_document([item])[0] | {"to_do": WHAT_TO_DO.get(item.kind, "see the reason")})
        return
    title = f"#{item.id} complaint {item.ref}: {item.kind} in {item.system} (route {item.route})"
    out.print(Text(title), style="bold")
    out.print(f"reason:     {item.reason}", markup=False, highlight=False)
    out.print(f"state:      {'closed' if item.resolved else 'open'}, seen {item.count}×")
    out.print(f"first seen: {when(item.first_seen)}   last seen: {when(item.last_seen)}")
    out.print(f"to do:      {WHAT_TO_DO.get(item.kind, 'see the reason')}", markup=False)
    out.print("what the bridge saw:")
    out.print(json.dumps(item.data(), indent=2, ensure_ascii=False), markup=False)


@review_app.command()
def done(
    review_ids: Annotated[
        list[int], typer.Argument(metavar="ID...", help="Ids shown by `bridge review list`.")
    ],
    config: ConfigOption = None,
) -> None:
    """Close flags a person has handled; a cause still there opens its flag again."""
    ledger = open_ledger(config)
    try:
        found = ledger.reviews.by_ids(review_ids)
        for item in found:
            ledger.reviews.resolve(item.route, item.ref, item.system, item.kind)
    finally:
        ledger.close()
    closed = [item for item in found if not item.resolved]
    out.print(f"Closed {len(closed)} flag(s).")
    unknown = sorted(set(review_ids) - {item.id for item in found})
    if unknown:
        _missing(unknown)


def _missing(ids: list[int]) -> NoReturn:
    listed = ", ".join(map(str, ids))
    err.print(f"No review flag with id {listed}; `bridge review list` shows them.")
    raise typer.Exit(1)
