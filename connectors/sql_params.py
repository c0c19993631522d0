"""Values going *into* the database: ids, times and write payloads as bound parameters.

Pure functions of the reflected columns; the connector binds what they return, so no
value is ever spliced into SQL text.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Table
from sqlalchemy.sql import sqltypes

from bridge.connector import NativeRecord
from bridge.errors import SchemaMismatch


def coerce_id(column: Column[Any], record_id: str) -> Any:
    """The id text as the column's type; None when it cannot be one (so: not found)."""
    if _python_type(column) is int:
        text = record_id.strip()
        if not text.removeprefix("-").isdigit():
            return None
        return int(text)
    return record_id


def db_time(moment: datetime, column: Column[Any], zone: ZoneInfo) -> datetime:
    """``moment`` as the column compares it: aware as is, naive in the mapping's zone."""
    if getattr(column.type, "timezone", False) or moment.tzinfo is None:
        return moment
    return moment.astimezone(zone).replace(tzinfo=None)


def row_values(
    table: Table, payload: NativeRecord, *, skip: Set[str], source: str, zone: ZoneInfo
) -> dict[str, Any]:
    """A write payload as column values; a key that is no plain column is a mapping mistake."""
    unknown = [k for k in payload if k not in skip and k not in table.c]
    unknown += [k for k, v in payload.items() if k in table.c and isinstance(v, dict | list)]
    if unknown:
        names = ", ".join(sorted(unknown))  # key names only: the values may be personal data
        # A route error, not a ConfigError: it is found mid-cycle, and must stop this
        # route with its reason in `bridge status`, not the whole bridge.
        raise SchemaMismatch(
            f"{source}: the mapping writes {names}, which table {table.name!r} has no "
            f"plain column for; fix the mapping's write paths or its [transport]"
        )
    return {
        key: _column_value(table.c[key], value, zone)
        for key, value in payload.items()
        if key not in skip
    }


def _column_value(column: Column[Any], value: Any, zone: ZoneInfo) -> Any:
    # The mapping writes ISO text with an offset; MariaDB refuses offsets in DATETIME text.
    if isinstance(value, str) and isinstance(column.type, sqltypes.DateTime):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value  # the database judges it (RemoteRejected)
        return db_time(moment, column, zone)
    return value


def _python_type(column: Column[Any]) -> type | None:
    try:
        python_type: type = column.type.python_type
    except NotImplementedError:
        return None
    return python_type
