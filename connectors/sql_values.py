"""Database values → JSON-like native values, and database URLs.

Rows from a local app are often hostile (DOMAIN.md §3, TRAPS.md "Stalling"): zero
dates, text in the wrong encoding, huge fields. The connector returns them without
crashing; judging them is the mapping's job, which sets the record aside with a reason.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

from bridge.errors import ConfigError

UNDECODABLE_KEY = "undecodable_utf8"
"""Bytes that are not UTF-8 come back as ``{UNDECODABLE_KEY: text}`` (errors replaced).

A dict where text is expected: a mapping that reads the field rejects the record
(RecordInvalid naming the field) instead of passing on text with silent ``�`` in it.
"""

_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_DRIVERS |= {"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
_SUPPORTED = frozenset(_DRIVERS.values())
_URL_FORM = "use mysql://user@host:3306/dbname or postgresql://user@host:5432/dbname"


# --- values -----------------------------------------------------------------------------


def native_value(value: Any, *, is_date: bool = False) -> Any:
    """One column value as a JSON-like value (see the module docstring for the hostile ones)."""
    if value is None or isinstance(value, str | int | float):
        # MariaDB's zero date cannot be a datetime: the driver hands over the text.
        if is_date and isinstance(value, str) and value.startswith("0000-00-00"):
            return None
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # naive stays naive: the mapping gives it its zone
    if isinstance(value, Decimal):
        return str(value)  # exact; the mapping's number codec reads text
    if isinstance(value, timedelta):  # MySQL TIME
        return _duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return _text(bytes(value))
    if isinstance(value, list | tuple):
        return [native_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): native_value(item) for key, item in value.items()}
    return str(value)  # UUID, network addresses, …


def _text(raw: bytes) -> str | dict[str, str]:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {UNDECODABLE_KEY: raw.decode("utf-8", errors="replace")}


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


# --- URLs -------------------------------------------------------------------------------


def database_url(raw: str, password: str | None, where: str) -> URL:
    """``raw`` sent to our drivers, with the secret password put in (never in the file)."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ConfigError([f"{where}.url: is not a database URL; {_URL_FORM}"]) from None
    drivername = _DRIVERS.get(url.drivername, url.drivername)
    problems = []
    if drivername not in _SUPPORTED:
        problems.append(f"{where}.url: scheme {url.drivername!r} is not supported; {_URL_FORM}")
    if url.password is not None:
        problems.append(
            f"{where}.url: holds a password; remove it and set the `password` secret "
            f"(environment variable BRIDGE_CONNECTORS__<NAME>__PASSWORD) instead"
        )
    if problems:
        raise ConfigError(problems)
    url = url.set(drivername=drivername)
    if drivername == "mysql+pymysql" and "charset" not in url.query:
        # Without it PyMySQL may talk latin1 and mangle Indonesian names.
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url if password is None else url.set(password=password)
