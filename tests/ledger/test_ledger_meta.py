"""The ledger's identity (`ledger_meta`) and opening it read-only (`create=False`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

import bridge.migrations
from bridge.ledger import Ledger, LedgerIdentity, LedgerMissing, LedgerOutdated
from bridge.ledger.db import normalise_url


def test_a_new_ledger_has_a_random_id_and_generation_zero(ledger_url: str, tmp_path: Path) -> None:
    """Each ledger created gets its own uuid4 and starts at generation 0."""
    with Ledger.open(ledger_url) as first, Ledger.open(f"sqlite:///{tmp_path}/b.db") as other:
        mine = first.identity()
        assert mine.generation == 0 and len(mine.ledger_id) == 36
        assert other.identity().ledger_id != mine.ledger_id


def test_every_cycle_start_counts_one_generation_and_tells_the_watcher(ledger: Ledger) -> None:
    """cycles.start increments the generation in the ledger and reports it after the commit."""
    told: list[LedgerIdentity] = []
    ledger.cycles.watch(told.append)
    ledger.cycles.start("a")
    ledger.cycles.start("b")
    assert [seen.generation for seen in told] == [1, 2]
    assert ledger.identity() == told[-1]


def test_meta_keys_are_set_read_and_deleted_by_literal_prefix(ledger: Ledger) -> None:
    """meta.set upserts; meta.delete_prefix removes only keys starting with the prefix."""
    ledger.meta.set("adopted:r_1", "yes")
    ledger.meta.set("adopted:r_1", "again")
    ledger.meta.set("adopted:%", "x")
    ledger.meta.set("adoptedXr", "kept")
    assert ledger.meta.get("adopted:r_1") == "again"
    assert ledger.meta.get("nothing") is None
    assert ledger.meta.delete_prefix("adopted:r_") == 1  # "_" is not a wildcard
    assert ledger.meta.require_adoption() == 1
    assert ledger.meta.get("adoptedXr") == "kept"
    assert ledger.meta.get("ledger_id") == ledger.identity().ledger_id


def test_read_only_open_of_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    """create=False on a missing file is LedgerMissing naming the URL and the fix; no file."""
    with pytest.raises(LedgerMissing) as caught:
        Ledger.open(f"sqlite:///{tmp_path}/l.db", create=False)
    assert f"no ledger at sqlite:///{tmp_path}/l.db" in str(caught.value)
    assert "bridge sync --once" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_read_only_open_of_an_empty_postgresql_database_creates_no_table() -> None:
    """create=False on a database without the bridge's tables is LedgerMissing; none made."""
    from tests.pg import fresh_pg_database

    with fresh_pg_database("lb_meta") as url:
        with pytest.raises(LedgerMissing, match="no ledger at postgresql://"):
            Ledger.open(url, create=False)
        engine = create_engine(normalise_url(url))
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
        engine.dispose()


def test_read_only_open_of_an_old_schema_says_so_and_does_not_migrate(ledger_url: str) -> None:
    """create=False on a ledger at an older revision is LedgerOutdated; it stays there."""
    engine = create_engine(normalise_url(ledger_url))
    config = Config()
    config.set_main_option("script_location", str(Path(bridge.migrations.__file__).parent))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    with pytest.raises(LedgerOutdated, match=r"revision 0003.*bridge sync --once"):
        Ledger.open(ledger_url, create=False)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
    engine.dispose()
    with Ledger.open(ledger_url) as upgraded, Ledger.open(ledger_url, create=False) as read:
        assert read.identity() == upgraded.identity()  # an upgraded ledger gets an identity
