"""The local PostgreSQL server as the tests reach it (127.0.0.1:5432, trust auth, database test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USERS = ("postgres", "root")


def pg_admin() -> tuple[psycopg.Connection[tuple[object, ...]], str] | None:
    """An autocommit connection to the `test` database and its user, or None if unreachable."""
    for user in PG_USERS:
        try:
            conn = psycopg.connect(
                host=PG_HOST,
                port=PG_PORT,
                user=user,
                dbname="test",
                autocommit=True,
                connect_timeout=3,
            )
        except psycopg.OperationalError:
            continue
        return conn, user
    return None


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """The URL of an empty PostgreSQL database made for one test, dropped afterwards.

    Skips the test when the server is unreachable, except in CI, where it fails.
    """
    admin = pg_admin()
    if admin is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable, and CI must test it")
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} (database `test`) is unreachable")
    conn, user = admin
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            # The plain scheme on purpose: the ledger must rewrite it to psycopg 3.
            yield f"postgresql://{user}@{PG_HOST}:{PG_PORT}/{name}"
        finally:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
