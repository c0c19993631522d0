"""Database errors → bridge errors, decided by the driver's own error numbers.

SQLAlchemy wraps every driver error in ``DBAPIError``; ``.orig`` is the driver's own,
and its number says what happened:

- PyMySQL (MariaDB, MySQL): the server's error number, ``orig.args[0]``. PyMySQL sets
  ``sqlstate`` too, but it is too coarse to act on (1142 "INSERT denied" shares 42000
  with a syntax error; 1364 "no default" is HY000), and its exception classes put
  1142 and 1364 under OperationalError beside a lost connection: neither is read.
- psycopg (PostgreSQL): ``orig.sqlstate``, the exact code first, then its class.

=========  ===========================================  ===================================
kind       MariaDB errno; PostgreSQL SQLSTATE           bridge error
login      1045, 1698; class 28                         AuthError
grant      1044, 1142, 1143, 1227; 42501                AccessDenied: grant it or turn off
schema     1049, 1054, 1146; 3D000, 3F000, 42P01, 42703 SchemaMismatch: fix the [transport]
not null   1048, 1364; 23502                            SchemaMismatch when the mapping never
                                                        writes the column, else RemoteRejected
value      1062, 1264, 1265, 1292, 1366, 1406, 1452…;   RemoteRejected (this record only)
           classes 22 and 23
busy/down  1040, 1205, 1213, 2002, 2003, 2006, 2013…;   RetryableError
           classes 08, 40, 53, 57P01-57P03, 55P03
=========  ===========================================  ===================================

Anything else is a ProtocolError. Messages carry identifiers only (connector, operation,
table, column, error number): a driver's text can quote row values (``Duplicate entry
'…'``, ``Incorrect integer value: '…'``) and SQLAlchemy's quotes the SQL and its parameters.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

import psycopg
import pymysql
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError

from bridge.errors import (
    AccessDenied,
    AuthError,
    BridgeError,
    ProtocolError,
    RemoteRejected,
    RetryableError,
    SchemaMismatch,
)


class Kind(Enum):
    LOGIN = "login"
    GRANT = "grant"
    SCHEMA = "schema"
    NOT_NULL = "not null"
    VALUE = "value"
    BUSY = "busy"
    OTHER = "other"


_MYSQL: dict[int, Kind] = {
    **dict.fromkeys((1045, 1698), Kind.LOGIN),  # access denied for user (password, socket)
    # db access denied, table/column command denied, a global privilege (SUPER…) missing
    **dict.fromkeys((1044, 1142, 1143, 1227), Kind.GRANT),
    **dict.fromkeys((1049, 1054, 1146), Kind.SCHEMA),  # unknown database, column, table
    **dict.fromkeys((1048, 1364), Kind.NOT_NULL),  # column cannot be null, no default value
    # duplicate entry, out of range, truncated, incorrect value, wrong date, too long,
    # foreign key, check constraint
    **dict.fromkeys((1062, 1264, 1265, 1292, 1366, 1406, 1452, 3819, 4025), Kind.VALUE),
    # too many connections, shutting down, lock wait, deadlock, and the client's own:
    # cannot connect, server gone away, lost connection, …
    **dict.fromkeys((1040, 1053, 1205, 1213, 2002, 2003, 2005, 2006, 2013, 2055, 4031), Kind.BUSY),
}
_PG: dict[str, Kind] = {
    "42501": Kind.GRANT,  # insufficient_privilege
    # invalid_catalog_name (database), invalid_schema_name, undefined_table, undefined_column
    **dict.fromkeys(("3D000", "3F000", "42P01", "42703"), Kind.SCHEMA),
    "23502": Kind.NOT_NULL,  # not_null_violation
    # admin/crash shutdown, cannot connect now, lock_not_available, query_canceled (timeout)
    **dict.fromkeys(("57P01", "57P02", "57P03", "55P03", "57014"), Kind.BUSY),
}
_PG_CLASSES: dict[str, Kind] = {
    "28": Kind.LOGIN,  # invalid authorization specification
    "22": Kind.VALUE,  # data exception: too long, invalid text representation, …
    "23": Kind.VALUE,  # integrity: unique, foreign key, check
    "08": Kind.BUSY,  # connection exception
    "40": Kind.BUSY,  # transaction rollback: serialization failure, deadlock
    "53": Kind.BUSY,  # insufficient resources
}
# psycopg reports a refused login while connecting without a SQLSTATE; the text is the
# server's own and names no row data, so matching on it is safe.
_PG_LOGIN_TEXT = re.compile(r"authentication failed|role .* does not exist|no pg_hba", re.I)


@dataclass(frozen=True)
class Write:
    """A write in flight: where, which columns, and the mapping key that turns it off."""

    verb: str  # "INSERT" | "UPDATE"
    table: str
    columns: Sequence[str]  # every column of the table, to recognise the one an error names
    written: Collection[str]  # the columns the statement sets (names only: values stay out)
    switch: str  # e.g. "[transport.responses] writable = false"
    constants: str  # where the mapping gives a column a fixed value, e.g. "[followups.constants]"


@dataclass(frozen=True)
class Attempt:
    """What the connector was doing, named in its errors (identifiers only, never values)."""

    connector: str
    operation: str
    user: str | None
    tables: Sequence[str] = ()  # the tables the statement may touch
    columns: Sequence[str] = ()  # the columns the configuration names
    write: Write | None = None
    source: str = "the mapping file"


@contextmanager
def db_errors(attempt: Attempt) -> Iterator[None]:
    """Translate SQLAlchemy and driver errors into bridge errors (module docstring)."""
    try:
        yield
    except NoSuchTableError:
        what = f"{attempt.connector}: {attempt.operation} failed"
        raise _schema(what, attempt, "a table it names is not there") from None
    except DBAPIError as exc:
        raise translate(attempt, exc) from None
    except SQLAlchemyError as exc:
        what = f"{attempt.connector}: {attempt.operation} failed ({type(exc).__name__})"
        raise ProtocolError(what) from None


def classify(orig: BaseException | None) -> tuple[Kind, int | str | None]:
    """The kind of a driver error, and the number it was decided by."""
    if isinstance(orig, pymysql.err.MySQLError):
        errno = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
        if errno is None:
            return Kind.OTHER, None
        return _MYSQL.get(errno, Kind.OTHER), errno
    if isinstance(orig, psycopg.Error):
        state = orig.sqlstate
        if state is None:
            # No answer from the server at all: it refused the login, or it is not there.
            login = bool(_PG_LOGIN_TEXT.search(str(orig)))
            busy = isinstance(orig, psycopg.OperationalError)
            return Kind.LOGIN if login else Kind.BUSY if busy else Kind.OTHER, None
        return _PG.get(state) or _PG_CLASSES.get(state[:2], Kind.OTHER), state
    return Kind.OTHER, None


def translate(attempt: Attempt, exc: DBAPIError) -> BridgeError:
    orig = exc.orig
    kind, code = classify(orig)
    if kind is Kind.OTHER and exc.connection_invalidated:
        kind = Kind.BUSY
    label = type(orig).__name__ if code is None else f"{type(orig).__name__} {code}"
    what = f"{attempt.connector}: {attempt.operation} failed ({label})"
    write = attempt.write
    if kind is Kind.LOGIN:
        return AuthError(
            f"{what}: the database refused this user; check the user in `url` and the "
            f"`password` secret (BRIDGE_CONNECTORS__<NAME>__PASSWORD)"
        )
    if kind is Kind.GRANT:
        return AccessDenied(f"{what}: {_grant_hint(attempt, orig)}")
    if kind is Kind.SCHEMA:
        column = _named(orig, write.columns if write else attempt.columns, _pg_column(orig))
        table = _named(orig, attempt.tables, None, _TABLE) or (write.table if write else None)
        where = f"column {column!r}" if column else f"table {table!r}" if table else "a name"
        return _schema(what, attempt, f"{where} is not in the database")
    if kind is Kind.NOT_NULL and write is not None:
        return _not_null(what, write, orig)
    if kind in (Kind.VALUE, Kind.NOT_NULL) and write is not None:
        column = _named(orig, write.columns, _pg_column(orig))
        of = f" for column {column!r} of {write.table!r}" if column else ""
        return RemoteRejected(f"{what}: the database refused this record's value{of}")
    if kind is Kind.VALUE:
        return ProtocolError(f"{what}: a value could not be read; check the column types")
    if kind is Kind.BUSY:
        return RetryableError(f"{what}: the database is unreachable or busy; will retry")
    return ProtocolError(what)


def _grant_hint(attempt: Attempt, orig: BaseException | None) -> str:
    user = attempt.user or "<the bridge's user>"
    write = attempt.write
    if write is not None:
        return (
            f"the database user {user!r} may not {write.verb} into table {write.table!r}; "
            f"grant it (GRANT {write.verb} ON {write.table} TO {user}) or set "
            f"{write.switch} of {attempt.source} to keep this door read-only"
        )
    table = _named(orig, attempt.tables, None, _TABLE)
    on = f"table {table!r}" if table else "the tables [transport] names"
    target = table or ", ".join(attempt.tables) or "…"
    return (
        f"the database user {user!r} may not read {on}; grant it "
        f"(GRANT SELECT ON {target} TO {user}; a read-only user is enough to pull)"
    )


def _not_null(what: str, write: Write, orig: BaseException | None) -> BridgeError:
    column = _named(orig, write.columns, _pg_column(orig))
    if column is not None and column not in write.written:
        # The mapping never writes this column: every record would fail the same way.
        return SchemaMismatch(
            f"{what}: column {column!r} of table {write.table!r} needs a value (NOT NULL, "
            f"no default) that the mapping does not write; give it one in the mapping's "
            f"{write.constants} (for example {column} = …), or a default in the database"
        )
    of = f" {column!r}" if column else ""
    return RemoteRejected(
        f"{what}: this record has no value for the required column{of} of {write.table!r}"
    )


def _schema(what: str, attempt: Attempt, problem: str) -> SchemaMismatch:
    return SchemaMismatch(
        f"{what}: {problem} (renamed or dropped?); "
        f"fix the [transport] table or the field paths of {attempt.source}, or the database"
    )


def _pg_column(orig: BaseException | None) -> str | None:
    if isinstance(orig, psycopg.Error):
        return orig.diag.column_name
    return None


_COLUMN = "column|field"
_TABLE = "table|relation"


def _named(
    orig: BaseException | None, names: Sequence[str], known: str | None, noun: str = _COLUMN
) -> str | None:
    """The one of ``names`` the driver's message names as a column (or a table), if any.

    Only a name we already know is returned, never text from the message: it may quote
    a value (``Incorrect integer value: '…' for column `db`.`t`.`c```).
    """
    if known is not None:
        return known
    text = str(orig)
    for name in names:
        # "column 'c'", "Field 'c'", 'column "c"', "column `db`.`t`.`c`", "table `db`.`t`",
        # 'relation "t"', "for table t": the noun, any qualifiers, then the name, last.
        quoted = rf"[`'\"]?{re.escape(name)}[`'\"]?(?![\w.`'\"])"
        pattern = rf"(?:{noun})\s+(?:[`'\"]?\w+[`'\"]?\.)*{quoted}"
        if re.search(pattern, text, re.IGNORECASE):
            return name
    return None
