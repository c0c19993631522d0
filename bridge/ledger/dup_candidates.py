"""The duplicate index's candidate query (``ledger.duplicates.candidates``), as plain SQL."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from sqlalchemy import TextClause, text

from bridge.dedup.reporter import REPORTER_KINDS

# Entries read per key at most (the newest): a key shared by thousands (a boilerplate
# band the normaliser missed) costs the same as a rare one.
PER_KEY = 20


@functools.lru_cache(maxsize=64)
def candidates_query(count: int) -> TextClause:
    """The candidates of a probe with ``count`` keys, in one round trip.

    Each key reads the newest ``PER_KEY`` entries from the key index (one range each);
    the ``cap`` entries sharing the most keys are kept, with which reporter kinds they
    share. Plain SQL built once per key count: composing the same statement with the
    expression language on every check cost more than running it. ``own`` says whether the
    complaint holds a record of the new record's own system already, or a create to it still
    unfinished (it cannot be linked there: one record per system, and a link made before that
    create lands would be overwritten by it), so a copy within one door is found, not created
    again.
    """
    arm = "SELECT * FROM (SELECT entry_id, key FROM dup_key WHERE key = :k{i} ORDER BY entry_id"
    arms = " UNION ALL ".join(
        f"{arm.format(i=i)} DESC LIMIT {PER_KEY}) AS arm{i}" for i in range(count)
    )
    kinds = ", ".join(
        f"MAX(CASE WHEN key LIKE 'r:{kind}:%' THEN 1 ELSE 0 END) AS {kind}"
        for kind in REPORTER_KINDS
    )
    columns = ", ".join(f"best.{kind}" for kind in REPORTER_KINDS)
    # Only names and integers are formatted in; every key and value is a bound parameter.
    sql = _CANDIDATES.format(arms=arms, kinds=kinds, columns=columns)
    return text(sql)


_CANDIDATES = (
    "WITH hits AS ({arms}), "
    "best AS (SELECT entry_id, COUNT(*) AS shared, {kinds} FROM hits "
    "GROUP BY entry_id ORDER BY shared DESC, entry_id DESC LIMIT :cap) "
    "SELECT complaint.ref, dup_entry.text, dup_entry.text_hash, dup_entry.at, "
    "dup_entry.region, dup_entry.category, best.shared, {columns}, "
    "(EXISTS (SELECT 1 FROM link WHERE link.complaint_id = dup_entry.complaint_id "
    "AND link.system = :system) OR EXISTS (SELECT 1 FROM pending_op "
    "WHERE pending_op.kind = 'create' AND pending_op.target_system = :system "
    "AND pending_op.complaint_id = dup_entry.complaint_id AND pending_op.state <> 'done')) "
    "AS own "
    "FROM best JOIN dup_entry ON dup_entry.id = best.entry_id "
    "JOIN complaint ON complaint.id = dup_entry.complaint_id "
    # Ties broken as in ``best``: the order reaches ``decide`` (its first best wins), so
    # both backends, and every plan, give one decision.
    "ORDER BY best.shared DESC, best.entry_id DESC"
)


def utc(at: datetime | str) -> datetime:
    """A timestamp read by plain SQL: SQLite gives the stored text back (naive UTC)."""
    value = datetime.fromisoformat(at) if isinstance(at, str) else at
    return value if value.tzinfo else value.replace(tzinfo=UTC)
