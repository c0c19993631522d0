"""``bridge sla``: the open complaints due or overdue, in Indonesian working days."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption, JsonOption
from bridge.cli.render import out, text_table

if TYPE_CHECKING:
    from bridge.sla import Deadline

_SPAN = re.compile(r"^(\d+)([dh])$")
STAGE_WORDS = {
    "verification": "verification (3 wd)",
    "follow_up": "follow-up (5 wd)",
    "auto_close": "auto-close (10 wd)",
}


def sla(
    config: ConfigOption = None,
    due: Annotated[
        str | None,
        typer.Option(
            "--due",
            help="Only what is overdue or due within this span, e.g. 1d or 12h "
            "(default: [daemon] sla_due_soon_days).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List open complaints due or overdue, soonest first, in the agency's time zone."""
    from bridge.daemon.snapshot import deadline_rows
    from bridge.ledger import Ledger
    from bridge.sla import BREACH_STAGES, agency_zone, deadlines, due_within, sla_calendar

    settings = load_settings(config, log_format="console")
    window = _span(due) if due else timedelta(days=settings.daemon.sla_due_soon_days)
    now = datetime.now(UTC)
    calendar = sla_calendar(settings, now)
    zone = agency_zone(settings)
    ledger = Ledger.open(settings.ledger.url, create=False)
    try:
        found = due_within(deadlines(ledger, calendar, zone, now), window, now)
    finally:
        ledger.close()
    provisional = sorted(calendar.provisional_years)
    if as_json:
        document = {
            "zone": str(zone),
            "calendar_version": calendar.version,
            "provisional_years": provisional,
            "deadlines": deadline_rows(found, now),
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    out.print(_table(found, now, zone.key))
    overdue = sum(1 for d in found if d.overdue(now) and d.stage in BREACH_STAGES)
    span = due or f"{settings.daemon.sla_due_soon_days:g}d"
    summary = f"{overdue} overdue, {len(found) - overdue} more due within {span}."
    out.print(summary, markup=False, highlight=False)
    if provisional:
        years = ", ".join(map(str, provisional))
        note = (
            f"Provisional: the cuti bersama of {years} are not known yet; deadlines there may "
            "move later. Add them to the [daemon] sla_calendar file when the SKB is out."
        )
        out.print(note, markup=False, highlight=False)


def _table(found: list[Deadline], now: datetime, zone: str) -> object:
    from bridge.sla import BREACH_STAGES

    rows = []
    for d in found:
        local = d.due_at.strftime("%Y-%m-%d %H:%M")
        if not d.overdue(now):
            left = _left(d.left(now))
        else:  # LAPOR! closes a complaint whose citizen did not answer: not a breach
            left = "OVERDUE" if d.stage in BREACH_STAGES else "closing"
        numbers = " ".join(remote for _, remote in d.ids)
        rows.append([local, left, STAGE_WORDS.get(d.stage, d.stage), numbers])
    return text_table(f"Deadlines ({zone})", ["due", "left", "stage", "numbers"], rows)


def _left(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _span(text: str) -> timedelta:
    match = _SPAN.match(text.strip().lower())
    if match is None:
        raise typer.BadParameter(f"{text!r}: write a number of days or hours, like 1d or 12h")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
