"""The hostile corpora (``corpus/*.json``) and the checks every end-to-end corpus test makes.

A corpus file is data, one per connector::

    {
      "about": "what this corpus feeds, and how",
      "id_key": "id",                       # the native id key the test fills in
      "template": { ...a valid native record, with personal data in it... },
      "personal": ["3201...", "0812...", "a@b.id", "Made Wirawan"],   # must never be stored
      "good": [ {...changes to the template...}, ... ],
      "entries": [
        {"name": "short-name", "why": "what it checks",
         "set": {...changes to the template...}, "drop": ["key", ...],
         "expect": {"set_aside": "reason substring", "field": "title"}
                 | {"normalised": {"canonical.field": value, ...}}
                 | {"duplicate_of": "another entry's name"}}
      ]
    }

Each record gets the id ``9001 + its index`` (good ones ``1 + index``) unless ``set`` names
the id itself. Values may be written as ``{"$repeat": "x", "times": 10485760}`` (a long
text) or ``{"$bytes": "4a61ff"}`` (raw bytes, for the transports that carry bytes: SQL
and CSV). Entries with ``"via": "http"`` are records the simulator cannot hold; their test
serves them at the HTTP level instead (the entry's ``why`` says so).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.ledger import Ledger, QuarantineInfo
from bridge.model import Complaint, make_ref
from bridge.sync import CycleReport

CORPUS = Path(__file__).parent / "corpus"
FIRST_HOSTILE_ID = 9001


@dataclass(frozen=True)
class Entry:
    """One hostile record and what must happen to it."""

    name: str
    why: str
    record: dict[str, Any]
    expect: dict[str, Any]
    via: str = "sim"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        (kind,) = (k for k in ("set_aside", "normalised", "duplicate_of") if k in self.expect)
        return kind

    @property
    def native_id(self) -> Any:
        return self.record.get(self.extra["id_key"])


@dataclass(frozen=True)
class Corpus:
    name: str
    about: str
    id_key: str
    personal: tuple[str, ...]
    good: tuple[dict[str, Any], ...]
    entries: tuple[Entry, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    """Any other top-level key of the file (a corpus's own seeding data)."""

    def where(self, via: str = "sim") -> list[Entry]:
        return [e for e in self.entries if e.via == via]

    def entry(self, name: str) -> Entry:
        (found,) = (e for e in self.entries if e.name == name)
        return found

    def records(self, entries: Iterable[Entry]) -> list[dict[str, Any]]:
        """The good records, then those of ``entries``: what a test seeds its source with."""
        return [*self.good, *(e.record for e in entries)]


def expand(value: Any) -> Any:
    """``$repeat`` and ``$bytes`` values made real; everything else as written."""
    if isinstance(value, dict):
        if "$repeat" in value:
            return str(value["$repeat"]) * int(value["times"])
        if "$bytes" in value:
            return bytes.fromhex(value["$bytes"])
        return {key: expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item) for item in value]
    return value


def load(name: str) -> Corpus:
    """``corpus/<name>.json`` with every record built from the template."""
    doc = json.loads((CORPUS / f"{name}.json").read_text(encoding="utf-8"))
    id_key = doc["id_key"]
    template = doc["template"]

    def build(raw: Mapping[str, Any], default_id: int) -> dict[str, Any]:
        record: dict[str, Any] = copy.deepcopy(template)
        record[id_key] = default_id
        for key in raw.get("drop", []):
            record.pop(key, None)
        record.update(expand(raw.get("set", {})))
        return record

    good = tuple(build(g, i) for i, g in enumerate(doc["good"], start=1))
    entries = []
    for index, raw in enumerate(doc["entries"]):
        extra = {k: v for k, v in raw.items() if k not in {"name", "why", "set", "drop"}}
        extra["id_key"] = id_key
        entries.append(
            Entry(
                name=raw["name"],
                why=raw["why"],
                record=build(raw, FIRST_HOSTILE_ID + index),
                expect=raw["expect"],
                via=raw.get("via", "sim"),
                extra=extra,
            )
        )
    return Corpus(
        name=name,
        about=doc["about"],
        id_key=id_key,
        personal=tuple(doc["personal"]),
        good=good,
        entries=tuple(entries),
        meta={k: v for k, v in doc.items() if k not in _TOP_KEYS},
    )


_TOP_KEYS = frozenset({"about", "id_key", "template", "personal", "good", "entries"})


# -- what must be true after a cycle ------------------------------------------------------------


def has_id(value: Any) -> bool:
    """Whether ``value`` can be a native id (the mappings take text or an integer)."""
    readable = isinstance(value, str | int) and not isinstance(value, bool)
    return readable and bool(str(value).strip())


def quarantined(ledger: Ledger, route: str) -> dict[str, QuarantineInfo]:
    return {q.source_id: q for q in ledger.quarantine.listed(route)}


def held_row(held: Mapping[str, QuarantineInfo], entry: Entry) -> QuarantineInfo:
    """The quarantine row of ``entry`` (a record with no id is held as ``noid-<digest>``)."""
    native_id = entry.native_id
    if has_id(native_id):
        row = held.get(str(native_id).strip())
        assert row is not None, f"{entry.name}: not set aside (held: {sorted(held)})"
        return row
    rows = [q for sid, q in held.items() if sid.startswith("noid-")]
    matching = [q for q in rows if entry.expect["set_aside"] in q.reason]
    assert matching, f"{entry.name}: no id-less record set aside with the expected reason"
    return matching[0]


def assert_set_aside(
    held: Mapping[str, QuarantineInfo], entry: Entry, personal: Iterable[str]
) -> None:
    """Held with a clear reason naming the field, and its stored copy masked."""
    row = held_row(held, entry)
    expect = entry.expect
    assert expect["set_aside"] in row.reason, f"{entry.name}: reason was {row.reason!r}"
    if "field" in expect:
        assert row.field == expect["field"], f"{entry.name}: field was {row.field!r}"
    assert len(row.reason) < 1000, f"{entry.name}: a reason is a sentence, not a dump"
    for value in personal:
        assert value not in row.record_json, f"{entry.name}: {value!r} stored in clear"
        assert value not in row.reason, f"{entry.name}: {value!r} in the reason"


def delivered_by_ref(copies: Iterable[tuple[str, Complaint]]) -> dict[str, list[Complaint]]:
    """Target copies (carried reference, complaint read back) grouped by reference."""
    found: dict[str, list[Complaint]] = {}
    for ref, complaint in copies:
        found.setdefault(ref, []).append(complaint)
    return found


def assert_outcomes(
    corpus: Corpus,
    entries: Iterable[Entry],
    *,
    held: Mapping[str, QuarantineInfo],
    delivered: Mapping[str, list[Complaint]],
    source_system: str,
) -> None:
    """Every hostile entry had its expected fate; every good record arrived exactly once."""
    entries = list(entries)

    def copies(native_id: Any) -> list[Complaint]:
        return delivered.get(make_ref(source_system, str(native_id).strip()), [])

    for record in corpus.good:
        assert len(copies(record[corpus.id_key])) == 1, f"good record {record[corpus.id_key]}"
    for entry in entries:
        if entry.kind == "set_aside":
            assert_set_aside(held, entry, corpus.personal)
            if has_id(entry.native_id):
                assert copies(entry.native_id) == [], f"{entry.name}: set aside yet delivered"
        elif entry.kind == "normalised":
            got = copies(entry.native_id)
            assert len(got) == 1, f"{entry.name}: delivered {len(got)} times"
            for name, value in entry.expect["normalised"].items():
                actual = _without_unsent_note(_attr(got[0], name))
                assert actual == value, f"{entry.name}: {name} is {actual!r}, not {value!r}"
            assert str(entry.native_id).strip() not in held, f"{entry.name}: also set aside"
        else:  # a second record with an id already listed in this pull
            assert len(copies(entry.native_id)) == 1, f"{entry.name}: not delivered once"


def assert_two_cycles(
    corpus: Corpus,
    entries: Iterable[Entry],
    first: CycleReport,
    second: CycleReport,
    *,
    ledger: Ledger,
    route: str,
    delivered: Mapping[str, list[Complaint]],
    source_system: str,
) -> dict[str, QuarantineInfo]:
    """Both cycles ran, the second created nothing, every entry met its fate; returns the held.

    An entry's ``raw_status`` is the status code its link keeps when the mapping does not know it.
    """
    entries = list(entries)
    assert first.ok, first.error
    assert second.ok, second.error
    assert second.counts.get("create", 0) == 0
    held = quarantined(ledger, route)
    assert_outcomes(corpus, entries, held=held, delivered=delivered, source_system=source_system)
    links = ledger.links.by_remote(source_system, [str(e.native_id) for e in entries])
    for entry in entries:
        if "raw_status" in entry.expect:
            assert links[str(entry.native_id)].raw_status_code == entry.expect["raw_status"]
    return held


def _attr(complaint: Complaint, dotted: str) -> Any:
    value: Any = complaint
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


_UNSENT_NOTE = re.compile(r"\n\n(Tanggal pengaduan asli: |status di )[^\n]*\Z")


def _without_unsent_note(value: Any) -> Any:
    """The text as the source sent it: lapor.toml's unsent_note line (the original date and
    local status, bridge.mapping._unsent) is the bridge's own addition, tested on its own."""
    return _UNSENT_NOTE.sub("", value) if isinstance(value, str) else value
