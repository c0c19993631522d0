"""The ``sql`` connector: read a local app's own tables (MariaDB/MySQL, PostgreSQL).

The typical local complaint app (DOMAIN.md §3) has no API; reading its database with a
read-only user is the realistic integration. Which tables and columns hold what is
schema, so it lives in the mapping file's ``[transport]`` table, beside the field map::

    [transport]
    table = "pengaduan"                 # the complaint table
    id_column = "id_pengaduan"
    updated_at_column = "updated_at"    # optional; absent → change_feed "scan"
    ref_column = "bridge_ref"           # optional; enables find_by_ref (and create's ref)
    create = false                      # optional; true lets the engine INSERT complaints
    write_status = false                # optional; true lets set_status UPDATE the row
    [[transport.joins]]                 # one-to-one tables, merged under a prefix
    table = "masyarakat"
    on = { nik = "nik" }                # complaint column → joined table column
    prefix = "pelapor"                  # → record["pelapor"]["nama"], mapped as "pelapor.nama"
    [transport.responses]               # one-to-many follow-ups, read into a list
    table = "tanggapan"
    foreign_key = "id_pengaduan"        # its column holding the complaint id
    id_column = "id_tanggapan"
    order_by = "tgl_tanggapan"          # optional; the id breaks ties
    key = "tanggapan_list"              # record["tanggapan_list"] = [{...}, ...]
    writable = true                     # add_followup may INSERT here

Every name must be a plain identifier and is checked against the live schema at first
use; values are always bound parameters. No SQL text is ever taken from configuration.

Change feed (``sql_pull``): with ``updated_at_column`` pages are ordered by (updated_at, id) and
``pull(since)`` returns rows updated at or after ``since``; rows updated within
``hold_back_seconds`` of the *database's* clock are left for the next pull, because
transactions still open may commit rows with earlier timestamps (TRAPS.md "Losing").
Naive database times come back as naive ISO text: the mapping's ``timezone`` gives them
their zone (MariaDB TIMESTAMP columns are read in the session zone, so set the mapping's
zone to the server's).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import structlog
from pydantic import Field, SecretStr
from sqlalchemy import Engine, Table, select, update

from bridge.connector import Connector, ConnectorSettings, NativeRecord
from bridge.errors import ConfigError, RemoteRejected
from bridge.model import Attachment

from .sql_database import SqlDatabase
from .sql_errors import db_errors
from .sql_file import read_sql_mapping
from .sql_params import coerce_id, row_values
from .sql_pull import SqlPull
from .sql_query import RecordQueries
from .sql_schema import TransportSpec, parse_transport, reflect_layout
from .sql_values import database_url

log = structlog.get_logger(__name__)


class SqlSettings(ConnectorSettings):
    """Settings of a ``sql`` connector (the schema itself is the mapping's ``[transport]``).

    - ``mapping``: required; the mapping file whose ``[transport]`` names tables/columns.
    - ``url``: ``mysql://user@host:3306/db`` or ``postgresql://user@host:5432/db``
      (sent to PyMySQL and psycopg 3), *without* a password.
    - ``password``: secret, put into the URL when connecting; set it from the
      environment as ``BRIDGE_CONNECTORS__<NAME>__PASSWORD``.
    - ``page_size``: rows per page of ``pull`` (default 500).
    - ``hold_back_seconds``: rows updated less than this long before the database's
      current time wait for the next pull, so late commits are not skipped (default 5).
    """

    url: str
    password: SecretStr | None = None
    page_size: int = Field(default=500, ge=1)
    hold_back_seconds: float = Field(default=5.0, ge=0)


class SqlConnector(Connector[SqlSettings]):
    """Complaints are rows of one table, with joined one-to-one rows and a list of responses."""

    type = "sql"
    can_create = False

    def __init__(self, name: str, settings: ConnectorSettings) -> None:
        super().__init__(name, settings)
        where = f"connectors.{name}"
        assert self.options.mapping is not None  # see problems()
        mapping = read_sql_mapping(self.options.mapping)
        self.spec: TransportSpec = parse_transport(mapping.transport, self.options.mapping)
        self._source = self.options.mapping
        self._zone = mapping.timezone
        secret = self.options.password.get_secret_value() if self.options.password else None
        self._url = database_url(self.options.url, secret, where)
        self._db = SqlDatabase(name, self._url, self.spec, self._source)
        options = self.options
        self._pull = SqlPull(
            name, self._db, options.page_size, options.hold_back_seconds, self._zone
        )
        self._queries: RecordQueries | None = None
        self.change_feed = "cursor" if self.spec.updated_at_column else "scan"
        self.can_create = self.spec.create
        self.can_find_by_ref = self.spec.ref_column is not None
        self.supports_followups = self.spec.responses is not None
        # A read-only door: its responses are read and sent on, nothing is written back.
        self.can_add_followups = self.spec.responses is not None and self.spec.responses.writable
        self.can_write_status = self.spec.write_status

    def problems(self) -> list[str]:
        if self.options.mapping is None:
            where = f"connectors.{self.name}"
            return [
                f"{where}.mapping: a sql connector needs a mapping file with a [transport] table"
            ]
        return []

    # -- the contract ------------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        yield from self._pull.pages(self._ready(), since)

    def get(self, record_id: str) -> NativeRecord | None:
        queries = self._ready()
        key = coerce_id(queries.layout.id_column, record_id)
        if key is None:
            return None
        rows = self._db.fetch(queries.by_id(key), "get")
        records = self._pull.records(queries, rows)
        return records[0] if records else None

    def followups(self, record_id: str) -> list[NativeRecord]:
        """The record's responses, oldest first; an unknown record raises RemoteRejected."""
        queries = self._ready()
        if queries.layout.responses is None:
            raise NotImplementedError(f"connector {self.name!r} has no [transport.responses]")
        key = self._existing_key(queries, record_id)
        rows = self._db.fetch(queries.responses_of([key]), "followups")
        return queries.response_records(rows).get(str(key), [])

    def add_followup(
        self, record_id: str, followup: NativeRecord, attachments: Sequence[Attachment]
    ) -> str | None:
        queries = self._ready()
        responses = queries.layout.responses
        if responses is None or not responses.writable:
            raise ConfigError(
                [
                    f"{self._source}: [transport.responses] is not writable; set "
                    f"`writable = true` there to let the bridge post follow-ups"
                ]
            )
        values = self._values(responses.table, followup)
        # Typical PHP schemas have no foreign keys: check, or an orphan row would be stored.
        values[responses.foreign_key.name] = self._existing_key(queries, record_id)
        new_id = self._db.insert(responses.table, responses.id_column.name, values, "add_followup")
        # Files are not stored: the typical schema has no place for a response's files.
        log.info("sql.followup.added", connector=self.name, record_id=record_id, followup_id=new_id)
        return new_id

    def set_status(self, record_id: str, fields: NativeRecord) -> None:
        """UPDATE the status columns of one complaint (``[transport] write_status = true``)."""
        if not self.can_write_status:
            raise NotImplementedError(f"connector {self.name!r} has no `write_status = true`")
        queries = self._ready()
        layout = queries.layout
        key = self._existing_key(queries, record_id)
        values = self._values(layout.table, fields)
        statement = update(layout.table).where(layout.id_column == key).values(values)
        with (
            db_errors(self._db.writing("set_status", layout.table, values)),
            self._db.engine().begin() as conn,
        ):
            conn.execute(statement)
        log.info("sql.status.written", connector=self.name, record_id=record_id)

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        if not self.can_create:
            raise NotImplementedError(f"connector {self.name!r} has no `create = true`")
        layout = self._ready().layout
        skip = frozenset(j.prefix for j in layout.joins)
        if layout.responses is not None:
            skip |= {layout.responses.key}
        # Joined rows and responses are other tables: create writes the complaint row only.
        values = self._values(layout.table, record, skip)
        if layout.ref is not None:
            values[layout.ref.name] = ref
        new_id = self._db.insert(layout.table, layout.id_column.name, values, "create")
        log.info("sql.record.created", connector=self.name, record_id=new_id)
        return new_id

    def find_by_ref(self, ref: str) -> str | None:
        layout = self._ready().layout
        if layout.ref is None:
            raise NotImplementedError(f"connector {self.name!r} has no [transport] ref_column")
        query = select(layout.id_column).where(layout.ref == ref).limit(1)
        rows = self._db.fetch(query, "find_by_ref")
        return str(rows[0][0]) if rows else None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (created on first use; tests listen to its statements)."""
        return self._db.engine()

    def close(self) -> None:
        self._db.close()

    def notices(self) -> list[str]:
        """A source whose rows sit hours ahead of the database's clock (``SqlPull``)."""
        note = self._pull.clock_note
        return [] if note is None else [note]

    # -- database access ---------------------------------------------------------------

    def _existing_key(self, queries: RecordQueries, record_id: str) -> Any:
        """The id as the column's type, or RemoteRejected when no such complaint exists."""
        key = coerce_id(queries.layout.id_column, record_id)
        if key is None or not self._db.fetch(queries.exists(key), "get"):
            raise RemoteRejected(f"no complaint with this {queries.layout.id_column.name} here")
        return key

    def _ready(self) -> RecordQueries:
        """Connect and check the [transport] names against the live schema, once."""
        if self._queries is None:
            with (
                db_errors(self._db.reading("schema check")),
                self._db.engine().connect() as conn,
            ):
                queries = RecordQueries(reflect_layout(conn, self.spec, self._source))
                if queries.layout.updated_at is not None:
                    # Rows with no update time never enter a cursor feed: say so, once.
                    nulls = conn.execute(queries.null_updated_at_count()).scalar_one()
                    if nulls:
                        log.warning("sql.pull.null_updated_at", connector=self.name, rows=nulls)
            self._queries = queries
            log.info("sql.schema.checked", connector=self.name, table=queries.layout.table.name)
        return self._queries

    def _values(
        self, table: Table, payload: NativeRecord, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        return row_values(table, payload, skip=skip, source=self._source, zone=self._zone)
