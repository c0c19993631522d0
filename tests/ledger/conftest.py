"""Fixtures: every ledger test runs on a fresh SQLite file and a fresh PostgreSQL database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, func, select

from bridge.ledger import Ledger
from bridge.ledger.db import normalise_url
from bridge.ledger.tables import (
    COMPLAINT,
    EVENT,
    FOLLOWUP,
    FOLLOWUP_COPY,
    LINK,
    PENDING_OP,
    QUARANTINE,
    REVIEW,
)
from tests.ledger.ledger_factories import T0, Clock
from tests.pg import fresh_pg_database

TABLES = (COMPLAINT, LINK, PENDING_OP, QUARANTINE, EVENT, FOLLOWUP, FOLLOWUP_COPY, REVIEW)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a PostgreSQL database made for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
        return
    with fresh_pg_database("lb_test") as url:
        yield url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """An opened ledger on a fresh database, closed after the test."""
    with Ledger.open(ledger_url) as opened:
        yield opened


@pytest.fixture
def row_counts(ledger_url: str) -> Iterator[Callable[[], dict[str, int]]]:
    """Counts the rows of the ledger's tables, read behind the ledger's back."""
    engine = create_engine(normalise_url(ledger_url))

    def count() -> dict[str, int]:
        with engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in TABLES
            }

    yield count
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    """A clock at ``T0`` that the test moves by hand."""
    return Clock(T0)


@pytest.fixture
def replicas(ledger_url: str, clock: Clock) -> Iterator[tuple[Ledger, Ledger]]:
    """Two replicas' ledgers on one database, reading one clock the test moves."""
    with Ledger.open(ledger_url, clock=clock) as a, Ledger.open(ledger_url, clock=clock) as b:
        yield a, b
