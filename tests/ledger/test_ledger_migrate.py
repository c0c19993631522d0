"""Migration 0002 on a ledger that was created, and filled, at revision 0001."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, inspect, text

import bridge.migrations
from bridge.ledger import Ledger
from bridge.ledger.db import normalise_url
from bridge.ledger.timestamps import UTCDateTime
from tests.ledger.ledger_factories import SOURCE, TARGET, ref_of

CREATED = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@pytest.fixture
def engine(ledger_url: str) -> Iterator[Engine]:
    """An engine on the empty test database, behind the ledger's back."""
    opened = create_engine(normalise_url(ledger_url))
    yield opened
    opened.dispose()


def _migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(bridge.migrations.__file__).parent))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _fill_v0001(engine: Engine) -> None:
    """Two complaints linked in SIDUMAS and LAPOR!, the second already closed."""
    complaint = sa.table(
        "complaint",
        *(sa.column(name) for name in ("id", "ref", "origin_system", "origin_id", "status")),
        sa.column("created_at", UTCDateTime),
    )
    link = sa.table(
        "link",
        *(sa.column(name) for name in ("complaint_id", "system", "remote_id", "raw_status_code")),
        sa.column("updated_at", UTCDateTime),
    )
    with engine.begin() as conn:
        conn.execute(
            complaint.insert(),
            [
                {"id": n, "ref": ref_of(n), "origin_system": SOURCE, "origin_id": str(n)}
                | {"status": status, "created_at": CREATED}
                for n, status in ((1, "in_progress"), (2, "closed"))
            ],
        )
        conn.execute(
            link.insert(),
            [
                {"complaint_id": n, "system": system, "remote_id": f"{system}-{n}"}
                | {"raw_status_code": "3", "updated_at": CREATED}
                for n in (1, 2)
                for system in (SOURCE, TARGET)
            ],
        )


def test_a_v0001_ledger_is_upgraded_keeping_its_data(ledger_url: str, engine: Engine) -> None:
    """Opening a filled 0001 ledger migrates it; old data stays, open links become due."""
    _migrate(engine, "0001")
    _fill_v0001(engine)

    with Ledger.open(ledger_url) as ledger:
        due = ledger.polls.due(SOURCE, now=datetime.now(UTC), limit=10)
        assert [link.ref for link in due] == [ref_of(1)]  # the closed one is never polled
        assert due[0].complaint_created_at == CREATED
        state = ledger.statuses.of([ref_of(1)])[ref_of(1)]
        assert (state.status, state.status_at, state.status_system) == ("in_progress", None, None)
        closed = ledger.links.of(ref_of(2), TARGET)
        assert closed is not None
        assert (closed.raw_status_code, closed.next_poll_at) == ("3", None)
        assert ledger.followups.note(ref_of(1), SOURCE, [("fp-a", "7")]) == ["fp-a"]
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            == "0013_notices"
        )


def test_0002_downgrades_to_0001_and_upgrades_again(ledger_url: str, engine: Engine) -> None:
    """The downgrade removes exactly what 0002 added, and 0002 applies again after it."""
    _migrate(engine, "head")
    _migrate(engine, "0001", down=True)
    with engine.connect() as conn:
        schema = inspect(conn)
        assert not {"followup", "followup_copy", "review"} & set(schema.get_table_names())
        assert "next_poll_at" not in {c["name"] for c in schema.get_columns("link")}
        assert "status_at" not in {c["name"] for c in schema.get_columns("complaint")}
    _fill_v0001(engine)
    with Ledger.open(ledger_url) as ledger:
        assert ledger.followups.of([ref_of(1)]) == {ref_of(1): []}


def test_0010_adds_the_indexed_ticket_column_and_downgrades_cleanly(
    ledger_url: str, engine: Engine
) -> None:
    """0010 adds link.ticket with its index; downgrading to 0007 removes both, upgrading re-adds."""
    _migrate(engine, "0007_duplicates")
    _fill_v0001(engine)  # links made before 0010 exist and get a NULL ticket
    _migrate(engine, "head")
    with engine.connect() as conn:
        schema = inspect(conn)
        assert "ticket" in {c["name"] for c in schema.get_columns("link")}
        assert "ix_link_ticket" in {i["name"] for i in schema.get_indexes("link")}
    with Ledger.open(ledger_url) as ledger:
        kept = ledger.links.of(ref_of(2), TARGET)
        assert kept is not None and kept.ticket is None
    _migrate(engine, "0007_duplicates", down=True)
    with engine.connect() as conn:
        schema = inspect(conn)
        assert "ticket" not in {c["name"] for c in schema.get_columns("link")}
        assert "ix_link_ticket" not in {i["name"] for i in schema.get_indexes("link")}
    _migrate(engine, "head")


AUTOVACUUM = "autovacuum_vacuum_insert_scale_factor=0.01"


def _dup_key_options(engine: Engine) -> list[str]:
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        query = text("SELECT reloptions FROM pg_class WHERE relname = 'dup_key'")
        return list(conn.execute(query).scalar_one() or [])


def test_0012_has_autovacuum_keep_the_key_index_readable_alone(engine: Engine) -> None:
    """On PostgreSQL dup_key is vacuumed after every 1 % of new rows; the downgrade resets it."""
    _migrate(engine, "0012_dup_speed")
    postgres = engine.dialect.name == "postgresql"
    assert _dup_key_options(engine) == ([AUTOVACUUM] if postgres else [])
    _migrate(engine, "0010_ticket", down=True)
    assert _dup_key_options(engine) == []
    with engine.connect() as conn:
        assert "ix_dup_key_key_entry" in {i["name"] for i in inspect(conn).get_indexes("dup_key")}
