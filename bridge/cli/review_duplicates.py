"""``bridge review duplicates|compare|link|not-duplicate|split``: the duplicate candidates.

A record that may duplicate a complaint another door (or LAPOR!) brought already waits
here, set aside, until a person decides (``bridge.dedup``): ``compare`` shows both
normalised texts side by side with the evidence (score, shared reporter key, days apart,
place); ``link`` makes it part of that complaint, ``not-duplicate`` sends it on its own
and the pair is never proposed again, ``split`` undoes a link (made automatically or by
a person): the record leaves the complaint and is delivered on its own. Nothing is ever
merged away: each decision only changes where the record's link points, and each is a
line in the complaint's history (``bridge trace REF``).

The texts shown are the normalised ones kept on this machine for the comparison; reporter
identifiers are only ever compared as keyed hashes and are never shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.table import Table

from bridge.cli.common import open_ledger
from bridge.cli.options import ConfigOption
from bridge.cli.render import err, out, shortened, when

if TYPE_CHECKING:
    from bridge.ledger.duplicates import PairInfo

PairId = Annotated[int, typer.Argument(metavar="ID", help="Shown by `bridge review duplicates`.")]

SAME_DOOR = (
    "Complaint {candidate} already holds a record of {system}, and a complaint holds one "
    "record per system: pair {id} cannot be linked. If it is the same complaint, close the "
    "record in {system} as a copy there (it stays held here, nothing is sent); if it is "
    "not, run `bridge review not-duplicate {id}` to send it on its own."
)

NEXT_CYCLE = (
    "Route {route} fetches record {source_id} from {system} again on its next cycle "
    "(`bridge run --once --route {route}`, or the daemon's next run) and {then}."
)


def duplicates(
    config: ConfigOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Decided pairs too.")] = False,
) -> None:
    """Records that may duplicate a complaint already sent: id, record, candidate, evidence."""
    from bridge.ledger.duplicates import REVIEW

    with open_ledger(config) as ledger:
        pairs = ledger.duplicates.pairs(None if all_ else REVIEW)
    if not pairs:
        out.print("No duplicate candidates wait for a person.")
        return
    table = Table(title=f"duplicate candidates: {sum(p.decision == REVIEW for p in pairs)}")
    for column in ("id", "route", "record", "may duplicate", "evidence", "since", "decision"):
        table.add_column(column)
    for pair in pairs:
        table.add_row(
            str(pair.id), pair.route, f"{pair.system} {pair.source_id}", pair.candidate,
            _evidence(pair), when(pair.at), pair.decision,
        )  # fmt: skip
    out.print(table)
    out.print("Both texts: bridge review compare ID · then link ID, not-duplicate ID or split ID")


def compare(pair_id: PairId, config: ConfigOption = None) -> None:
    """Both texts side by side, with the evidence."""
    pair = _pair(config, pair_id)
    table = Table(title=f"#{pair.id}: {_evidence(pair)}", show_lines=True, expand=True)
    table.add_column(f"new record: {pair.system} {pair.source_id} (route {pair.route})", ratio=1)
    table.add_column(f"complaint {pair.candidate}", ratio=1)
    table.add_row(pair.text, pair.candidate_text or "(no longer indexed)")
    out.print(table)
    out.print(f"decision: {pair.decision}", markup=False)


def link(pair_id: PairId, config: ConfigOption = None) -> None:
    """The record is the same complaint: link it there, create nothing."""
    from bridge.ledger.duplicates import LINKED

    pair = _pair(config, pair_id)
    if pair.evidence.get("same_system"):
        # The link would take the complaint's record of that system away (one per system).
        err.print(SAME_DOOR.format(id=pair_id, candidate=pair.candidate, system=pair.system))
        raise typer.Exit(1)
    _decide(config, pair_id, LINKED, "links it to complaint {candidate}")


def not_duplicate(pair_id: PairId, config: ConfigOption = None) -> None:
    """A different complaint: send it on its own; the pair is never proposed again."""
    from bridge.ledger.duplicates import NOT_DUPLICATE

    _decide(config, pair_id, NOT_DUPLICATE, "sends it on its own")


def split(pair_id: PairId, config: ConfigOption = None) -> None:
    """Undo a link: the record leaves the complaint and is sent on its own; nothing is lost."""
    from bridge.ledger.duplicates import LINKED, SPLIT

    pair = _pair(config, pair_id)
    if pair.decision != LINKED:
        err.print(f"Pair {pair_id} is not linked ({pair.decision}): only a link can be split.")
        raise typer.Exit(1)
    _decide(config, pair_id, SPLIT, "sends it on its own, apart from complaint {candidate}")


def _decide(config: ConfigOption, pair_id: PairId, decision: str, then: str) -> None:
    pair = _pair(config, pair_id)
    with open_ledger(config) as ledger:
        ledger.duplicates.decide(pair_id, decision, "bridge review")
    out.print(f"#{pair_id}: {decision.replace('_', '-')}.")
    follow = then.format(candidate=pair.candidate)
    out.print(NEXT_CYCLE.format(route=pair.route, source_id=pair.source_id, system=pair.system,
                                then=follow), markup=False)  # fmt: skip


def _pair(config: ConfigOption, pair_id: int) -> PairInfo:
    with open_ledger(config) as ledger:
        pair = ledger.duplicates.pair(pair_id)
    if pair is None:
        _missing(pair_id)
    return pair


def _evidence(pair: PairInfo) -> str:
    e = pair.evidence
    parts = [f"score {e.get('score')}"]
    if e.get("exact"):
        parts.append("same text")
    if e.get("shared_keys"):
        parts.append("same reporter (" + ", ".join(e["shared_keys"]) + ")")
    if e.get("days_apart") is not None:
        parts.append(f"{e['days_apart']} days apart")
    if e.get("same_system"):
        parts.append("same door")
    if e.get("same_place") is False:
        parts.append("different region or category")
    return shortened(", ".join(parts), 80)


def _missing(pair_id: int) -> NoReturn:
    err.print(f"No duplicate candidate with id {pair_id}; `bridge review duplicates` lists them.")
    raise typer.Exit(1)


COMMANDS: dict[str, Callable[..., None]] = {
    "duplicates": duplicates,
    "compare": compare,
    "link": link,
    "not-duplicate": not_duplicate,
    "split": split,
}
"""``bridge review`` subcommand name → command; ``bridge.cli.app`` registers them."""
