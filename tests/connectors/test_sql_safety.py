"""The sql connector's guard rails: identifiers, parameters, errors and hostile rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from structlog.testing import capture_logs

from bridge.connectors.sql import SqlConnector, SqlSettings
from bridge.connectors.sql_values import UNDECODABLE_KEY
from bridge.errors import AuthError, ConfigError, RecordInvalid, RetryableError, SchemaMismatch
from bridge.mapping import load_mapping
from tests.sqlfixtures import (
    SHIPPED_MAPPING,
    SHIPPED_TRANSPORT,
    SqlDb,
    closed_port,
    make_connector,
    sql_db_fixture,  # noqa: F401 - registers the `sql_db` fixture
    write_mapping,
)

CONTRACT_LIKE = {**SHIPPED_TRANSPORT, "ref_column": "bridge_ref"}


def settings(mapping: Path, url: str, **extra: Any) -> SqlSettings:
    return SqlSettings(type="sql", mapping=str(mapping), url=url, **extra)


# --- configuration (no database needed) ---------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("table", "pengaduan; DROP TABLE x"),
        ("id_column", "id` OR 1=1 --"),
        ("updated_at_column", "updated_at\n"),
        ("ref_column", "a" * 65),
        ("table", "public.pengaduan"),
    ],
)
def test_an_identifier_that_is_not_a_plain_name_is_refused(
    tmp_path: Path, key: str, value: str
) -> None:
    """Names with SQL, quotes, dots, newlines or over 64 characters fail at start-up."""
    mapping = write_mapping(tmp_path, {**SHIPPED_TRANSPORT, key: value})
    with pytest.raises(ConfigError) as caught:
        SqlConnector("aduan", settings(mapping, "mysql://u@127.0.0.1/db"))
    assert f"[transport].{key}" in str(caught.value)
    assert "plain SQL name" in str(caught.value)


def test_every_bad_transport_key_is_reported_at_once(tmp_path: Path) -> None:
    """Unknown keys and bad join names are listed together, each with its key path."""
    joins = [{"table": "masyarakat", "on": {"nik; --": "nik"}, "prefix": "pelapor"}]
    transport = {**SHIPPED_TRANSPORT, "joins": joins, "sql": "SELECT 1"}
    mapping = write_mapping(tmp_path, transport)
    with pytest.raises(ConfigError) as caught:
        SqlConnector("aduan", settings(mapping, "mysql://u@127.0.0.1/db"))
    problems = caught.value.problems
    assert len(problems) == 2
    assert any("[transport].sql" in p for p in problems)
    assert any("[transport].joins.0.on" in p for p in problems)


def test_a_password_in_the_url_is_refused(tmp_path: Path) -> None:
    """The URL may not carry a password: it belongs in the `password` secret."""
    mapping = write_mapping(tmp_path)
    with pytest.raises(ConfigError, match="BRIDGE_CONNECTORS__<NAME>__PASSWORD") as caught:
        SqlConnector("aduan", settings(mapping, "mysql://u:s3cret@127.0.0.1/db"))
    assert "s3cret" not in str(caught.value)


def test_plain_schemes_are_sent_to_pymysql_and_psycopg(tmp_path: Path) -> None:
    """mysql:// goes to PyMySQL (utf8mb4) and postgresql:// to psycopg 3."""
    mapping = write_mapping(tmp_path)
    mysql = SqlConnector("a", settings(mapping, "mysql://u@h/db"))
    postgres = SqlConnector("b", settings(mapping, "postgresql://u@h/db"))
    assert mysql.engine.url.drivername == "mysql+pymysql"
    assert mysql.engine.url.query["charset"] == "utf8mb4"
    assert postgres.engine.url.drivername == "postgresql+psycopg"


def test_capabilities_follow_the_transport_table(tmp_path: Path) -> None:
    """The shipped mapping reads only: a cursor feed, follow-ups, no create, no ref search."""
    connector = SqlConnector("a", settings(write_mapping(tmp_path), "mysql://u@h/db"))
    assert connector.change_feed == "cursor"
    assert connector.supports_followups
    assert not connector.can_create
    assert not connector.can_find_by_ref
    assert not connector.can_write_status


# --- against the live schema ---------------------------------------------------------------


def test_a_missing_table_or_column_is_named_with_the_fix(sql_db: SqlDb, tmp_path: Path) -> None:
    """First use checks every name against the database; SchemaMismatch lists every one missing."""
    joins = [{"table": "warga", "on": {"nik": "nik"}, "prefix": "pelapor"}]
    transport = {**SHIPPED_TRANSPORT, "updated_at_column": "diubah", "joins": joins}
    connector = make_connector(sql_db, tmp_path, transport)
    with connector, pytest.raises(SchemaMismatch) as caught:
        list(connector.pull())
    problems = caught.value.problems
    assert len(problems) == 2
    assert "no column 'diubah'" in problems[0]
    assert "id_pengaduan" in problems[0]  # the columns that do exist
    assert "table 'warga' does not exist" in problems[1]


def test_values_are_parameters_never_sql(sql_db: SqlDb, tmp_path: Path) -> None:
    """Quote-laden refs and ids find nothing and change nothing."""
    sql_db.complaint(1, bridge_ref="lbaaaa")
    with make_connector(sql_db, tmp_path, CONTRACT_LIKE) as connector:
        assert connector.find_by_ref("' OR '1'='1") is None
        assert connector.find_by_ref("x'; DROP TABLE pengaduan; --") is None
        assert connector.find_by_ref("lbaaaa") is not None
        assert connector.get("1; DROP TABLE pengaduan") is None
    with sql_db.engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(sql_db.table("pengaduan"))).scalar() == 1
        )


# --- errors --------------------------------------------------------------------------------


def test_an_unreachable_server_is_retryable(sql_db: SqlDb, tmp_path: Path) -> None:
    """Connection refused is a RetryableError naming the connector, not the URL's secrets."""
    scheme = "mysql" if sql_db.backend == "mariadb" else "postgresql"
    url = f"{scheme}://root@127.0.0.1:{closed_port()}/x"
    connector = make_connector(sql_db, tmp_path, url=url)
    with connector, pytest.raises(RetryableError, match="aduan"):
        connector.get("1")


def test_refused_credentials_are_an_auth_error(sql_db: SqlDb, tmp_path: Path) -> None:
    """A user the server does not know is an AuthError, and the password never shows."""
    scheme = "mysql" if sql_db.backend == "mariadb" else "postgresql"
    port = 3306 if sql_db.backend == "mariadb" else 5432
    url = f"{scheme}://lb_no_such_user@127.0.0.1:{port}/test"
    with_secret = settings(write_mapping(tmp_path), url, password=SecretStr("pw-123"))
    connector = SqlConnector("aduan", with_secret)
    with connector, pytest.raises(AuthError) as caught:
        list(connector.pull())
    assert "pw-123" not in str(caught.value)


# --- hostile rows --------------------------------------------------------------------------


def test_hostile_rows_come_back_and_the_mapping_sets_the_bad_ones_aside(
    sql_db: SqlDb,
    tmp_path: Path,
) -> None:
    """NULL text, year 0002, a zero date and 5 MB of text are returned; the mapping judges them."""
    big = "panjang " * 655_360  # 5 MiB
    null_content = sql_db.complaint(1, isi_laporan=None)
    ancient = sql_db.complaint(2, tgl_pengaduan=date(2, 3, 4))
    huge = sql_db.complaint(3, isi_laporan=big)
    zero = None
    if sql_db.backend == "mariadb":  # PostgreSQL has no zero date
        sql_db.execute("SET SESSION sql_mode = ''")
        sql_db.execute(
            "INSERT INTO pengaduan (tgl_pengaduan, isi_laporan) VALUES ('0000-00-00', 'nol')"
        )
        zero = 4
    with make_connector(sql_db, tmp_path) as connector:
        records = {r["id_pengaduan"]: r for page in connector.pull() for r in page}
    mapping = load_mapping(SHIPPED_MAPPING)
    assert records[null_content]["isi_laporan"] is None
    with pytest.raises(RecordInvalid) as missing:
        mapping.to_canonical(records[null_content])
    assert missing.value.field == "content"
    assert records[ancient]["tgl_pengaduan"] == "0002-03-04"
    with pytest.raises(RecordInvalid) as typo:
        mapping.to_canonical(records[ancient])
    assert typo.value.field == "created_at"
    assert records[huge]["isi_laporan"] == big  # the connector returns it whole
    with pytest.raises(RecordInvalid) as oversized:  # the model's limit sets it aside
        mapping.to_canonical(records[huge])
    assert oversized.value.field == "content"
    if zero is not None:
        assert records[zero]["tgl_pengaduan"] is None
        assert mapping.to_canonical(records[zero]).created_at is None


def test_bytes_that_are_not_utf8_are_marked_for_the_mapping(sql_db: SqlDb, tmp_path: Path) -> None:
    """Invalid UTF-8 in a binary column comes back replaced and wrapped; the mapping refuses it."""
    if sql_db.backend == "mariadb":
        sql_db.execute("ALTER TABLE pengaduan MODIFY isi_laporan LONGBLOB NULL")
    else:
        sql_db.execute(
            "ALTER TABLE pengaduan ALTER COLUMN isi_laporan TYPE BYTEA "
            "USING convert_to(isi_laporan, 'UTF8')"
        )
    broken = sql_db.complaint(1, isi_laporan=b"Jalan rusak \xe9\xff di desa")
    fine = sql_db.complaint(2, isi_laporan=b"Lampu mati")
    with make_connector(sql_db, tmp_path) as connector:
        records = {r["id_pengaduan"]: r for page in connector.pull() for r in page}
    assert records[broken]["isi_laporan"] == {UNDECODABLE_KEY: "Jalan rusak �� di desa"}
    assert records[fine]["isi_laporan"] == "Lampu mati"
    mapping = load_mapping(SHIPPED_MAPPING)
    with pytest.raises(RecordInvalid) as caught:
        mapping.to_canonical(records[broken])
    assert caught.value.field == "content"
    assert mapping.to_canonical(records[fine]).content == "Lampu mati"


def test_logs_carry_counts_never_row_data(sql_db: SqlDb, tmp_path: Path) -> None:
    """Pull logs dotted events with the connector and counts, and no column value."""
    sql_db.insert("masyarakat", nik="3201", nama="Siti Aminah", username="siti", telp="0812")
    sql_db.complaint(1, nik="3201", isi_laporan="rahasia pribadi")
    with capture_logs() as logs, make_connector(sql_db, tmp_path) as connector:
        list(connector.pull())
    events = {entry["event"] for entry in logs}
    assert {"sql.schema.checked", "sql.pull.finished"} <= events
    text = repr(logs)
    for value in ("Siti", "0812", "3201", "rahasia"):
        assert value not in text
