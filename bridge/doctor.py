"""The checks of ``bridge doctor``: read-only, each problem named with what to change.

Every connector is built and asked for one sample of its records (reachability and
credentials); LAPOR!'s institution master (#7) is read where a connector offers it
(``institutions()``); the agency identity is compared everywhere it is written; the
mapping's value tables are held against the codes the sample carries; and the newest
change time of each source against our clock: a source whose rows sit a whole number of
hours in the future writes its times in another zone than its mapping says.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

from bridge.config.settings import BridgeConfig, build_connector
from bridge.connector import Connector, NativeRecord
from bridge.errors import AuthError, BridgeError, ConfigError, RecordError
from bridge.mapping import Mapping, load_mapping
from bridge.skew import future_skew


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what is wrong, and what to change."""

    where: str
    problem: str
    fix: str


def check_all(config: BridgeConfig, *, limit: int, now: datetime | None = None) -> list[Finding]:
    """Every finding over the configuration, connector by connector; nothing is written."""
    moment = now or datetime.now(UTC)
    findings = list(_agency_declared(config))
    for name in config.connectors:
        findings += check_connector(config, name, limit=limit, now=moment)
    return findings


def check_connector(config: BridgeConfig, name: str, *, limit: int, now: datetime) -> list[Finding]:
    """The findings of one connector: reaching it, its identity, its codes, its clock."""
    settings = config.connector_settings(name)
    try:
        connector = build_connector(config, name)
        mapping = (
            load_mapping(settings.mapping, config.agency.model_dump()) if settings.mapping else None
        )
    except ConfigError as exc:
        # One finding per problem: each names its key and the fix already.
        return [Finding(name, problem, "as the problem says") for problem in exc.problems]
    except BridgeError as exc:
        return [Finding(name, f"cannot be set up: {exc}", "fix the settings named above")]
    try:
        sample, found = _sample(connector, limit)
        found += [Finding(name, note, "see the note") for note in connector.notices()]
        found += _identity(config, name, settings.type, connector)
        if mapping is not None:
            found += _codes(name, str(settings.mapping), mapping, sample)
            found += _clock(name, mapping, sample, now)
        return found
    finally:
        connector.close()


def _sample(connector: Connector, limit: int) -> tuple[list[NativeRecord], list[Finding]]:
    name = connector.name
    try:
        pages = connector.pull(None)
        return list(islice((r for page in pages for r in page), limit)), []
    except AuthError as exc:
        return [], [Finding(name, f"credentials refused: {exc}", "set the secrets named above")]
    except BridgeError as exc:
        fix = "check base_url and that the server is up; the error says which call failed"
        return [], [Finding(name, f"cannot be read: {exc}", fix)]


# -- the agency's identity ---------------------------------------------------------------
def _agency_declared(config: BridgeConfig) -> Iterable[Finding]:
    if config.agency.institution_id is None:
        yield Finding(
            "[agency]",
            "no institution_id: the agency's identity is not stated in one place",
            "add [agency] institution_id (its id in LAPOR!'s institution master), "
            "location_id, channel and name; the doctor then checks every copy against it",
        )


def _identity(config: BridgeConfig, name: str, kind: str, connector: Connector) -> list[Finding]:
    """The agency against LAPOR!'s institution master.

    Every other copy of the identity (the connector's settings, the mapping's constants)
    is checked where it is read, when the connector is built: ``bridge.config.agency``
    and the connector's ``problems()``, which ``check_connector`` reports one by one.
    """
    agency = config.agency
    if agency.institution_id is None or kind != "lapor":
        return []
    institutions = getattr(connector, "institutions", None)
    if not callable(institutions):
        return []
    return _in_master(name, agency.institution_id, agency.name, institutions())


def _in_master(
    name: str, institution_id: str, agency_name: str | None, rows: list[NativeRecord]
) -> list[Finding]:
    by_id = {str(row.get("id")): str(row.get("name") or "") for row in rows}
    if institution_id not in by_id:
        names = {v: k for k, v in by_id.items()}
        close = difflib.get_close_matches(agency_name or "", list(names), n=3, cutoff=0.5)
        hint = ", ".join(f"{names[c]} ({c})" for c in close) or "look it up in LAPOR!'s admin"
        return [
            Finding(
                name,
                f"[agency] institution_id {institution_id} is not in LAPOR!'s institution master",
                f"set [agency] institution_id to your agency's id: {hint}",
            )
        ]
    if agency_name and by_id[institution_id].casefold() != agency_name.casefold():
        return [
            Finding(
                name,
                f"institution {institution_id} is {by_id[institution_id]!r} in LAPOR!'s "
                f"master, not {agency_name!r}",
                "check [agency] institution_id: it names another agency",
            )
        ]
    return []


# -- codes and clocks --------------------------------------------------------------------
def _codes(name: str, path: str, mapping: Mapping, sample: list[NativeRecord]) -> list[Finding]:
    seen: Counter[tuple[str, str]] = Counter()
    for record in sample:
        seen.update(mapping.unmapped_codes(record))
    return [
        Finding(
            name,
            f"code {code!r} of [values.{table}] is not mapped (seen {n} times)",
            f"add it to [values.{table}] in {path}; `bridge mapping codes {name}` prints "
            "every such code ready to paste",
        )
        for (table, code), n in seen.most_common()
    ]


def _clock(name: str, mapping: Mapping, sample: list[NativeRecord], now: datetime) -> list[Finding]:
    stamps = []
    for record in sample:
        try:
            stamp = mapping.native_updated_at(record)
        except RecordError:
            continue
        if stamp is not None:
            stamps.append(stamp)
    skew = future_skew(max(stamps), now, mapping.timezone.key) if stamps else None
    return [] if skew is None else [Finding(name, skew.problem, skew.fix)]
