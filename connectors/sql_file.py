"""What the sql connector reads from its mapping file: ``[transport]`` and the time zone.

The mapping file as a whole (its field map) belongs to the mapping layer, which the
route loads and checks; a connector never imports it. The sql connector needs only two
things from the same file when it is built: the ``[transport]`` table (its schema
settings, checked by ``sql_schema.parse_transport``) and ``[mapping].timezone``, the zone
of naive database times. Problems are ``ConfigError``s worded like the mapping layer's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bridge.errors import ConfigError

ZONE_HINT = "use an IANA name: 'Asia/Jakarta' (WIB), 'Asia/Makassar' (WITA), 'Asia/Jayapura' (WIT)"


@dataclass(frozen=True)
class SqlMappingFile:
    """The ``[transport]`` table (None when absent) and the zone of naive native times."""

    transport: Mapping[str, Any] | None
    timezone: ZoneInfo


def read_sql_mapping(path: str | Path) -> SqlMappingFile:
    """``[transport]`` and ``[mapping].timezone`` of the mapping file at ``path``."""
    source = str(path)
    doc = _toml(Path(path), source)
    head = doc.get("mapping")
    name = head.get("timezone") if isinstance(head, dict) else None
    if not isinstance(name, str):
        raise _problem(source, f"timezone is missing; naive times need a zone: {ZONE_HINT}")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _problem(source, f"timezone {name!r} is not a known time zone; {ZONE_HINT}") from None
    transport = doc.get("transport")
    return SqlMappingFile(transport if isinstance(transport, dict) else None, zone)


def _toml(path: Path, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror}); check the path"
    except UnicodeDecodeError:
        reason = "is not UTF-8 text; save it as UTF-8"
    except tomllib.TOMLDecodeError as exc:
        reason = f"is not valid TOML ({exc}); fix the syntax there"
    raise ConfigError([f"{source}: {reason}"], source=source)


def _problem(source: str, text: str) -> ConfigError:
    return ConfigError([f"{source}: [mapping] {text}"], source=source)
