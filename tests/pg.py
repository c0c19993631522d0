"""The local PostgreSQL server as the tests reach it (127.0.0.1:5432, trust auth, database test)."""

from __future__ import annotations

import psycopg

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
