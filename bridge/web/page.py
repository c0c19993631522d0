"""One HTML page from a snapshot; every value passes ``html.escape``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bridge.web.words import WORDS

if TYPE_CHECKING:  # the daemon imports this module: only its type is needed here
    from bridge.daemon.snapshot import Snapshot

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:70rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #bbb;padding:.3rem .6rem;text-align:left}
th{background:#eee}.bad{color:#a00;font-weight:bold}.good{color:#060}
.note{background:#fff6d5;padding:.5rem;border-left:4px solid #d9a400}
"""


def render_status_page(snapshot: Snapshot, lang: str = "en") -> str:
    """The desk's page for ``snapshot`` in ``lang`` ("en" or "id"; anything else: "en")."""
    lang = lang if lang in WORDS else "en"
    words = WORDS[lang]
    zone = ZoneInfo(snapshot.zone)
    other = "en" if lang == "id" else "id"
    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(words['title'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(words['title'])}</h1>",
        f"<p>{escape(words['read_at'])}: {_when(snapshot.taken_at, zone)} · "
        f'<a href="?lang={other}">{escape(words["lang_other"])}</a></p>',
        *(f'<p class="bad">{escape(words["problems"])}: {escape(e)}</p>' for e in snapshot.errors),
        _routes(snapshot, words, zone),
        _systems(snapshot, words, zone),
        _notices(snapshot, words, zone),
        _set_aside(snapshot, words),
        _deadlines(snapshot, words, zone),
        "</body></html>",
    ]
    return "\n".join(parts)


def _routes(snap: Snapshot, words: dict[str, str], zone: ZoneInfo) -> str:
    rows = []
    for route in snap.routes:
        last = route.last_cycle
        failed = last is not None and last.ok is False
        state = (
            f'<span class="bad">{escape(words["failed"])}: {escape(last.error or "")}</span>'
            if failed and last is not None
            else f'<span class="good">{escape(words["ok"])}</span>'
        )
        good = _when(route.last_success_at, zone) if route.last_success_at else words["never"]
        rows.append(
            [
                escape(route.route),
                good,
                escape(route.lag_text(snap.taken_at)),
                state,
                str(route.linked),
            ]
        )
    head = [words[k] for k in ("route", "last_good", "behind", "state", "linked")]
    return f"<h2>{escape(words['routes'])}</h2>" + _table(head, rows)


def _systems(snap: Snapshot, words: dict[str, str], zone: ZoneInfo) -> str:
    paused = [s for s in snap.systems if s.paused_at(snap.taken_at)]
    out = f"<h2>{escape(words['systems'])}</h2>"
    if not paused:
        return out + f"<p>{escape(words['no_paused'])}</p>"
    items = "".join(
        f"<li><b>{escape(s.connector)}</b>: {escape(words['paused_until'])} "
        f"{_when(s.paused_until, zone)} — {escape(s.last_error or '')}</li>"
        for s in paused
        if s.paused_until is not None
    )
    return out + f"<ul>{items}</ul>"


def _notices(snap: Snapshot, words: dict[str, str], zone: ZoneInfo) -> str:
    """What connectors said about their set-up; nothing at all when they said nothing."""
    if not snap.notices:
        return ""
    items = "".join(
        f"<li><b>{escape(n.system)}</b> ({escape(words['since'])} "
        f"{_when(n.first_seen, zone)}): {escape(n.text)}</li>"
        for n in snap.notices
    )
    return f"<h2>{escape(words['notices'])}</h2><ul>{items}</ul>"


def _set_aside(snap: Snapshot, words: dict[str, str]) -> str:
    out = f"<h2>{escape(words['set_aside'])}</h2>"
    rows = [
        [escape(route), escape(field), str(count)]
        for route, counts in sorted(snap.set_aside_reasons.items())
        for field, count in counts.most_common()
    ]
    if rows:
        head = [words["route"], words["field"], words["count"]]
        out += _table(head, rows) + f'<p class="note">{escape(words["set_aside_do"])}</p>'
    else:
        out += f"<p>{escape(words['set_aside_none'])}</p>"
    reviews = sum(r.reviews for r in snap.routes)
    out += f"<h2>{escape(words['reviews'])}: {reviews}</h2>"
    if reviews:
        out += f'<p class="note">{escape(words["reviews_do"])}</p>'
    return out


def _deadlines(snap: Snapshot, words: dict[str, str], zone: ZoneInfo) -> str:
    out = f"<h2>{escape(words['by_stage'])}</h2>"
    head = [words["stage"], words["open"], words["due_soon"], words["past"]]
    rows = [
        [escape(words.get(stage, stage)), str(c["open"]), str(c["due_soon"]), str(c["overdue"])]
        for stage, c in sorted(snap.sla.items())
    ]
    out += _table(head, rows)
    if snap.provisional_years:
        years = ", ".join(str(y) for y in snap.provisional_years)
        out += f'<p class="note">{escape(words["provisional"].format(years=years))}</p>'
    out += f"<h2>{escape(words['deadlines'])}</h2>"
    if not snap.near:
        return out + f"<p>{escape(words['deadlines_none'])}</p>"
    rows = []
    for d in snap.near:
        due = _when(d.due_at, zone)
        if d.overdue(snap.taken_at):
            due = f'<span class="bad">{escape(words["overdue"])}</span> {due}'
        numbers = ", ".join(f"{escape(s)} {escape(i)}" for s, i in d.ids)
        rows.append([due, escape(words.get(d.stage, d.stage)), numbers])
    return out + _table([words["due"], words["stage"], words["numbers"]], rows)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``rows`` hold HTML already escaped; ``head`` is plain text."""
    top = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _when(at: datetime | None, zone: ZoneInfo) -> str:
    if at is None:
        return ""
    local = at.astimezone(zone)
    return escape(local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or ""))
