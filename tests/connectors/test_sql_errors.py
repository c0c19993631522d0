"""The sql door reads database errors by the driver's own numbers, on real MariaDB and PostgreSQL.

A missing grant or a schema that does not fit stops the route with the fix; a value only
one record carries refuses that record; only a server that is down or busy is retried.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
from sqlalchemy import select

from bridge.connectors.sql_errors import Kind, classify
from bridge.errors import AccessDenied, RemoteRejected, RetryableError, SchemaMismatch
from tests.sqlfixtures import (
    SHIPPED_TRANSPORT,
    SqlDb,
    make_connector,
    read_only_user,
    sql_db_fixture,  # noqa: F401 - registers the `sql_db` fixture
)

CREATING: dict[str, Any] = {**SHIPPED_TRANSPORT, "create": True, "ref_column": "bridge_ref"}
ANSWER = {"tanggapan": "Sudah diperbaiki", "tgl_tanggapan": "2024-03-08", "id_petugas": 7}


def _complaint(n: int, **values: Any) -> dict[str, Any]:
    return {"judul": f"Jalan rusak {n}", "isi_laporan": "Berlubang", "status": "0", **values}


def _titles(db: SqlDb) -> list[str]:
    table = db.table("pengaduan")
    with db.engine.connect() as conn:
        return [str(t) for t in conn.execute(select(table.c.judul)).scalars()]


def test_a_read_only_user_pulls_and_its_refused_insert_names_table_and_grant(
    sql_db: SqlDb, tmp_path: Path
) -> None:
    """SELECT only: pull works; add_followup is AccessDenied naming tanggapan and the GRANT."""
    complaint = sql_db.complaint(1)
    with read_only_user(sql_db) as url:
        user = url.split("//")[1].split("@")[0]
        with make_connector(sql_db, tmp_path, url=url) as connector:
            assert [len(page) for page in connector.pull()] == [1]
            with pytest.raises(AccessDenied) as caught:
                connector.add_followup(str(complaint), ANSWER, [])
    message = str(caught.value)
    assert "'tanggapan'" in message
    assert f"GRANT INSERT ON tanggapan TO {user}" in message
    assert "`writable = false` in [transport.responses]" in message
    assert "Sudah diperbaiki" not in message


def test_a_column_dropped_after_start_up_is_a_schema_mismatch_naming_it(
    sql_db: SqlDb, tmp_path: Path
) -> None:
    """An INSERT into a column that is gone (1054, 42703) names the column; it is no retry."""
    complaint = sql_db.complaint(1)
    with make_connector(sql_db, tmp_path) as connector:
        connector.add_followup(str(complaint), ANSWER, [])  # the schema is checked here
        sql_db.execute("ALTER TABLE tanggapan DROP COLUMN id_petugas")
        with pytest.raises(SchemaMismatch) as caught:
            connector.add_followup(str(complaint), ANSWER, [])
    assert "column 'id_petugas'" in str(caught.value)


def test_a_not_null_column_the_mapping_never_writes_names_the_constants_key(
    sql_db: SqlDb, tmp_path: Path
) -> None:
    """NOT NULL without default (1364, 23502), left out by the mapping: SchemaMismatch + fix."""
    if sql_db.backend == "mariadb":
        sql_db.execute("ALTER TABLE tanggapan MODIFY id_petugas INT NOT NULL")
    else:
        sql_db.execute("ALTER TABLE tanggapan ALTER COLUMN id_petugas SET NOT NULL")
    complaint = sql_db.complaint(1)
    without = {k: v for k, v in ANSWER.items() if k != "id_petugas"}
    with make_connector(sql_db, tmp_path) as connector:
        with pytest.raises(SchemaMismatch) as caught:
            connector.add_followup(str(complaint), without, [])
        # The same column written empty by one record: only that record is refused.
        with pytest.raises(RemoteRejected) as empty:
            connector.add_followup(str(complaint), {**ANSWER, "id_petugas": None}, [])
        connector.add_followup(str(complaint), ANSWER, [])
    assert "column 'id_petugas'" in str(caught.value)
    assert "[followups.constants]" in str(caught.value)
    assert "'id_petugas'" in str(empty.value)


def test_an_over_long_value_refuses_that_record_and_the_others_are_written(
    sql_db: SqlDb, tmp_path: Path
) -> None:
    """A title longer than VARCHAR(100) (1406, 22001) refuses one create; the next goes in."""
    with make_connector(sql_db, tmp_path, CREATING) as connector:
        with pytest.raises(RemoteRejected) as caught:
            connector.create(_complaint(1, judul="Panjang " * 20), [], "lbaaaa")
        connector.create(_complaint(2), [], "lbbbbb")
    assert "Panjang" not in str(caught.value)
    assert _titles(sql_db) == ["Jalan rusak 2"]


def test_an_incorrect_value_names_the_column_never_the_value(sql_db: SqlDb, tmp_path: Path) -> None:
    """Text in an INT column (1366, 22P02) refuses that record without quoting its value."""
    complaint = sql_db.complaint(1)
    with make_connector(sql_db, tmp_path) as connector:
        with pytest.raises(RemoteRejected) as caught:
            connector.add_followup(str(complaint), {**ANSWER, "id_petugas": "rahasia"}, [])
        connector.add_followup(str(complaint), ANSWER, [])
    assert "rahasia" not in str(caught.value)
    if sql_db.backend == "mariadb":  # PostgreSQL's error does not say which column
        assert "'id_petugas'" in str(caught.value)


def test_a_refused_read_names_the_table_to_grant(sql_db: SqlDb, tmp_path: Path) -> None:
    """A user that may not read tanggapan is told to GRANT SELECT on it, not to wait."""
    sql_db.complaint(1)
    with read_only_user(sql_db, tables=("pengaduan", "masyarakat")) as url:
        connector = make_connector(sql_db, tmp_path, url=url)
        with connector, pytest.raises((AccessDenied, SchemaMismatch)) as caught:
            list(connector.pull())
    # MariaDB hides a table the user may not read from reflection: "cannot see it".
    assert "tanggapan" in str(caught.value)
    assert not isinstance(caught.value, RetryableError)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (pymysql.err.OperationalError(1142, "INSERT command denied"), Kind.GRANT),
        (pymysql.err.OperationalError(1364, "Field 'x' doesn't have a default"), Kind.NOT_NULL),
        (pymysql.err.OperationalError(1054, "Unknown column 'x'"), Kind.SCHEMA),
        (pymysql.err.DataError(1406, "Data too long for column 'x'"), Kind.VALUE),
        (pymysql.err.OperationalError(1045, "Access denied for user"), Kind.LOGIN),
        (pymysql.err.OperationalError(1213, "Deadlock found"), Kind.BUSY),
        (pymysql.err.OperationalError(1205, "Lock wait timeout"), Kind.BUSY),
        (pymysql.err.OperationalError(2013, "Lost connection"), Kind.BUSY),
        (psycopg.errors.InsufficientPrivilege(), Kind.GRANT),
        (psycopg.errors.UndefinedColumn(), Kind.SCHEMA),
        (psycopg.errors.NotNullViolation(), Kind.NOT_NULL),
        (psycopg.errors.StringDataRightTruncation(), Kind.VALUE),
        (psycopg.errors.UniqueViolation(), Kind.VALUE),
        (psycopg.errors.SerializationFailure(), Kind.BUSY),
        (psycopg.errors.DeadlockDetected(), Kind.BUSY),
        (psycopg.errors.AdminShutdown(), Kind.BUSY),
        (psycopg.errors.InvalidPassword(), Kind.LOGIN),
    ],
)
def test_the_driver_number_decides_the_kind(error: BaseException, kind: Kind) -> None:
    """PyMySQL by errno (not its coarse sqlstate or class), psycopg by SQLSTATE then class."""
    assert classify(error)[0] is kind
