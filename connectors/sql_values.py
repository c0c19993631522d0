"""Database values → JSON-like native values, database errors → bridge errors, URLs.

Rows from a local app are often hostile (DOMAIN.md §3, TRAPS.md "Stalling"): zero
dates, text in the wrong encoding, huge fields. The connector returns them without
crashing; judging them is the mapping's job, which sets the record aside with a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, SQLAlchemyError

from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    RemoteRejected,
    RetryableError,
)

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


# --- errors -----------------------------------------------------------------------------

# MySQL/MariaDB error numbers (PyMySQL puts them in args[0]).
_MYSQL_AUTH = frozenset({1044, 1045, 1142, 1143, 1227, 1698})
_MYSQL_CONFIG = frozenset({1049, 1054, 1146})
_MYSQL_RETRY = frozenset({1040, 1053, 1205, 1213, 2002, 2003, 2005, 2006, 2013, 2055})


@contextmanager
def db_errors(connector: str, operation: str, *, writing: bool = False) -> Iterator[None]:
    """Translate SQLAlchemy/driver errors into bridge errors, by what to do about them.

    Messages carry only the error class and code: a driver's text can quote row values
    (``Duplicate entry '…'``) and SQLAlchemy's quotes the SQL and its parameters.
    """
    try:
        yield
    except NoSuchTableError as exc:
        raise _schema_changed(connector, str(exc)) from None
    except DBAPIError as exc:
        raise _translate(connector, operation, exc, writing) from None
    except SQLAlchemyError as exc:
        raise ProtocolError(f"{connector}: {operation} failed ({type(exc).__name__})") from None


def _translate(connector: str, operation: str, exc: DBAPIError, writing: bool) -> Exception:
    orig = exc.orig
    code = _code(orig)
    label = type(orig).__name__ if code is None else f"{type(orig).__name__} {code}"
    what = f"{connector}: {operation} failed ({label})"
    if _is_auth(orig, code):
        return AuthError(
            f"{what}: the database refused this user or its privileges; check the user in "
            f"`url`, the `password` secret, and the grants (SELECT; INSERT where writing)"
        )
    if code in _MYSQL_CONFIG or code in {"3D000", "42P01", "42703"}:
        return _schema_changed(connector, what)
    kind = type(orig).__name__
    if writing and kind in {"IntegrityError", "DataError"}:
        return RemoteRejected(f"{what}: the database refused the row")
    if kind == "DataError":
        return ProtocolError(f"{what}: a value could not be read; check the column types")
    if exc.connection_invalidated or kind in {"OperationalError", "InterfaceError"}:
        return RetryableError(f"{what}: the database is unreachable or busy; will retry")
    if code in _MYSQL_RETRY or (isinstance(code, str) and code[:2] in {"08", "40", "53", "57"}):
        return RetryableError(f"{what}: the database is unreachable or busy; will retry")
    return ProtocolError(what)


def _code(orig: BaseException | None) -> int | str | None:
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg
    if isinstance(sqlstate, str):
        return sqlstate
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


_PG_AUTH_TEXT = re.compile(r"authentication failed|role .* does not exist|no pg_hba", re.I)


def _is_auth(orig: BaseException | None, code: int | str | None) -> bool:
    if code in _MYSQL_AUTH or (isinstance(code, str) and code[:2] == "28") or code == "42501":
        return True
    # psycopg reports a refused login while connecting without a SQLSTATE; the text is
    # the server's own and names no row data, so matching on it is safe.
    return code is None and bool(_PG_AUTH_TEXT.search(str(orig)))


def _schema_changed(connector: str, what: str) -> ConfigError:
    return ConfigError(
        [
            f"{what}: a database, table or column the [transport] table names is missing "
            f"(renamed or dropped since start-up?); fix the mapping file's [transport] and restart"
        ],
        source=f"connector {connector!r}",
    )
