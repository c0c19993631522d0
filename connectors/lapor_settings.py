"""The settings of a ``lapor`` connector (SP4N-LAPOR! v3, see ``connectors.lapor``)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, SecretStr

from bridge.http.connector import HttpApiSettings

ATTACHMENT_PREFIXES = ("files/", "/storage/")
"""Where LAPOR! files are fetched with our credentials [A]: never its API paths."""

# Ids are numbers in TOML and LAPOR!'s answers, text here: 1001 and "1001" agree.
IdText = Annotated[
    str | None,
    BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
]


class LaporSettings(HttpApiSettings):
    # Read by bridge.config.agency: these settings come from [agency].
    AGENCY_KEYS: ClassVar[dict[str, str]] = {
        "disposition_id": "institution_id",
        "location_id": "location_id",
        "channel": "channel",
    }

    """Settings of a ``lapor`` connector.

    - ``base_url``: API root, e.g. ``https://api-splp.layanan.go.id/lapor/3.0.0``.
    - ``auth_header``: header carrying ``Bearer <api_key>``; ``auth`` in production,
      ``Authorization`` in the sandbox.
    - ``api_key`` (secret): the bearer token.
    - ``api_guid`` (secret): the value of the ``token`` header.
    - ``page_size``: records per listing page.
    - ``disposition_id``, ``location_id``, ``channel``: the agency's identity, filled from
      ``[agency]`` (``institution_id``, ``location_id``, ``channel``); do not set them here.
      Complaints are pulled for ``disposition_id`` and created with all three (unless the
      record carries its own ``location_id``); follow-ups are posted from it
      (``institution_from_id``). An older configuration that sets them here still works
      when they agree with ``[agency]``, with a deprecation warning.
    - ``create_path``: where a complaint is created (#2); integrators are given their own
      (``complaints/complaint``, or e.g. ``complaints/complaint-lmw``).
    - ``followup_fields``: fields every posted follow-up carries unless the mapping sets
      them, e.g. ``{ institution_to_id = 1001, template_code = "TL01", rating = 0 }``:
      the real clients always send these three.
    - ``timeout_seconds``: read timeout of every request.
    - ``allow_insecure_http``: allow plain http to a non-loopback host (never in production).
    - ``verify_tls``: verify the server's certificate.
    - ``retry_attempts``: attempts for reads (creates are tried once).
    - ``max_response_bytes``, ``max_attachment_bytes``, ``request_deadline_seconds``,
      ``attachment_hosts``, ``attachment_path_prefixes``: see ``bridge.http`` (default
      prefixes: ``ATTACHMENT_PREFIXES``).
    """

    auth_header: str = "auth"
    api_key: SecretStr
    api_guid: SecretStr
    page_size: int = 100
    disposition_id: IdText = None
    location_id: IdText = None
    channel: IdText = None
    create_path: str = "complaints/complaint"
    followup_fields: dict[str, str | int | bool] = Field(default_factory=dict)

    def identity(self) -> dict[str, str]:
        """The agency's identity as the create payload's keys (those that are set)."""
        pairs = {
            "disposition_id": self.disposition_id,
            "location_id": self.location_id,
            "channel": self.channel,
        }
        return {key: value for key, value in pairs.items() if value is not None}


# The mapping's constants that write the agency's identity, and the setting each must equal.
_MAPPING_IDENTITY = {
    ("constants", "disposition_id"): "disposition_id",
    ("constants", "location_id"): "location_id",
    ("constants", "channel"): "channel",
    ("followups.constants", "institution_from_id"): "disposition_id",
}


def identity_problems(name: str, settings: LaporSettings) -> list[str]:
    """Where the mapping's constants name another agency than ``[agency]``, with the fix.

    Read at start, so a door for one kabupaten never files its complaints as another's.
    """
    if not settings.mapping:
        return []
    try:
        doc = tomllib.loads(Path(settings.mapping).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []  # the mapping loader reports an unreadable file with its own fix
    problems = []
    for (table, key), setting in _MAPPING_IDENTITY.items():
        section: Any = doc
        for part in table.split("."):
            section = section.get(part, {}) if isinstance(section, dict) else {}
        have = section.get(key) if isinstance(section, dict) else None
        want = getattr(settings, setting)
        agency_key = "institution_id" if setting == "disposition_id" else setting
        if isinstance(have, dict) and list(have) == ["agency"]:
            # { agency = "KEY" }: the mapping takes [agency]'s value; only the key can be wrong.
            if have["agency"] != agency_key:
                problems.append(
                    f"{settings.mapping} [{table}] {key} takes [agency] {have['agency']}: it "
                    f'must be {{ agency = "{agency_key}" }} (connector {name!r})'
                )
            continue
        if have is None or want is None or str(have) == want:
            continue
        problems.append(
            f"{settings.mapping} [{table}] {key} is {have!r} but [agency] {agency_key} is "
            f"{want!r} (connector {name!r}): remove {key} from the mapping's [{table}], the "
            f"connector writes [agency]'s value (or correct [agency] {agency_key})"
        )
    return problems
