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
from datetime import UTC, datetime, timedelta
from itertools import islice

from bridge.config.settings import BridgeConfig, build_connector
from bridge.connector import Connector, NativeRecord
from bridge.errors import AuthError, BridgeError, ConfigError, RecordError
from bridge.mapping import Mapping, load_mapping

FUTURE_SLACK = timedelta(minutes=30)
"""A source's newest row may run this far ahead of our clock before it is a problem."""
WHOLE_HOUR = timedelta(minutes=10)
"""How close to a whole number of hours a skew must be to be called a time zone."""


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
        found += [Finding(name, note, "see the note") for note in _notices(connector)]
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


def _notices(connector: Connector) -> list[str]:
    notices = getattr(connector, "notices", None)
    return list(notices()) if callable(notices) else []


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
    if not stamps or (skew := max(stamps) - now) <= FUTURE_SLACK:
        return []
    hours = round(skew / timedelta(hours=1))
    ahead = f"its newest row is {skew_text(skew)} in the future ({max(stamps).isoformat()})"
    if hours >= 1 and abs(skew - timedelta(hours=hours)) <= WHOLE_HOUR:
        zone = mapping.timezone.key
        return [
            Finding(
                name,
                f"{ahead}: a whole {hours} h, so its times are written in a zone {hours} h "
                f"ahead of {zone}, the [mapping] timezone its mapping reads them in",
                "set [mapping] timezone to the zone the application writes in (a Laravel "
                "app writes in its APP_TIMEZONE, a database server may be on UTC); until "
                "then new rows wait behind the cursor's hold-back for hours",
            )
        ]
    return [Finding(name, ahead, "set that server's clock right (NTP)")]


def skew_text(skew: timedelta) -> str:
    minutes = int(skew.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min"
