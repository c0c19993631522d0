"""``{ agency = "name" }``: a constant or default that is the configuration's ``[agency]`` value.

The agency's identity is written once, in ``bridge.toml``'s ``[agency]``. A mapping that
needs it (a door's column for the agency's name, a follow-up's institution id) refers to
it instead of typing it again, in ``[constants]``, ``[defaults]`` (and their
``[followups.*]`` twins) and ``[status_write.constants]``::

    [constants]
    instansi = { agency = "name" }

The reference is resolved when the mapping is loaded with the configuration's values;
loaded without them (``load_mapping`` from code), a reference is a problem, so a payload
can never carry a placeholder. ``bridge mapping check`` without ``-c`` checks the keys
only (``CHECK_ONLY``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AGENCY_KEYS = ("institution_id", "location_id", "channel", "name")
"""The keys of ``[agency]`` (``bridge.config.settings.AgencySettings``; a test holds them equal)."""

AgencyValues = Mapping[str, str | None]
"""``[agency]`` as a mapping from its keys to their values (None: not set)."""

CHECK_ONLY: AgencyValues = {key: f"<[agency] {key}>" for key in AGENCY_KEYS}
"""Stand-ins for checking a mapping's references without a configuration at hand."""


class Unresolved:
    """A reference that could not be resolved (the problem is reported already)."""


UNRESOLVED = Unresolved()


def reference(value: object) -> object | None:
    """The ``[agency]`` key ``value`` refers to, or None when it is not a reference."""
    if isinstance(value, dict) and list(value) == ["agency"]:
        key: object = value["agency"]
        return key
    return None


def resolved(value: Any, agency: AgencyValues | None) -> tuple[Any, str | None]:
    """``value`` with a reference replaced by the agency's value, and the problem if any."""
    key = reference(value)
    if key is None:
        return value, None
    if key not in AGENCY_KEYS:
        known = ", ".join(AGENCY_KEYS)
        return UNRESOLVED, f"{{ agency = {key!r} }} names no [agency] key; use one of: {known}"
    if agency is None:
        return UNRESOLVED, (
            f"refers to [agency] {key}, but the mapping was loaded without a configuration; "
            "load it with the configuration's [agency] (`bridge mapping check -c bridge.toml`)"
        )
    found = agency.get(str(key))
    if found is None:
        return UNRESOLVED, (
            f"refers to [agency] {key}, which the configuration does not set; add "
            f'{key} = "..." to [agency] in bridge.toml (or write the value here)'
        )
    return found, None
