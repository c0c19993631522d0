"""``[agency]`` is the one place the agency's identity is written.

A connector type whose settings declare ``AGENCY_KEYS`` (setting name -> ``[agency]`` key)
gets those settings from ``[agency]``. A connector table that still sets one (an older
configuration) keeps working when it agrees, with a deprecation warning; when it disagrees
the configuration is refused, naming both places: a complaint filed under the wrong agency
is not undone by a later fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from bridge.config.settings import AgencySettings

_log = structlog.get_logger("bridge.config")


def agency_keys(model: type[Any]) -> Mapping[str, str]:
    """The connector settings ``model`` fills from ``[agency]`` (none for most types)."""
    keys = getattr(model, "AGENCY_KEYS", None)
    return keys if isinstance(keys, Mapping) else {}


def with_agency(
    where: str, table: Mapping[str, Any], keys: Mapping[str, str], agency: AgencySettings | None
) -> tuple[dict[str, Any], list[str]]:
    """``table`` with the agency's values filled in, and the disagreements found."""
    data = dict(table)
    problems: list[str] = []
    for setting, agency_key in keys.items():
        want = getattr(agency, agency_key) if agency is not None else None
        have = data.get(setting)
        if have is None:
            if want is not None:
                data[setting] = want
            continue
        if want is None:
            _log.warning(
                "config.agency.deprecated",
                key_path=f"{where}.{setting}",
                fix=f"move it to [agency] {agency_key} and remove it from [{where}]",
            )
        elif str(have) != want:
            problems.append(
                f"{where}.{setting} is {have!r} but [agency] {agency_key} is {want!r}: "
                f"[agency] is the one place for the agency's identity; remove {setting} "
                f"from [{where}] (or correct [agency] {agency_key})"
            )
        else:
            _log.warning(
                "config.agency.deprecated",
                key_path=f"{where}.{setting}",
                fix=f"remove it: [agency] {agency_key} says the same",
            )
    return data, problems
