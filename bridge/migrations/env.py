"""Alembic environment: always runs on the connection the ledger hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bridge.ledger import tables

target_metadata = tables.COMPLAINT.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "the ledger migrations run through bridge.ledger.Ledger.open(), "
            "which passes its connection; there is no alembic.ini"
        )
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
