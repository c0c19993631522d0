"""Alembic migrations of the ledger schema, shipped inside the package.

The ledger runs them itself (``bridge.ledger.db.migrate``) every time it opens, so
no ``alembic.ini`` exists. To write the next revision, add a file to ``versions/``
whose ``down_revision`` is the current head; ``script.py.mako`` is the template.
"""
