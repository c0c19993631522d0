"""``bridge status``'s second table: systems that failed lately, and which are paused."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table

from bridge.ledger import Ledger


def connector_health_table(ledger: Ledger, now: datetime | None = None) -> Table | None:
    """One row per connector with failures on record; None when every system is healthy."""
    unhealthy = [h for h in ledger.health.listed() if h.failures]
    if not unhealthy:
        return None
    now = now or datetime.now(UTC)
    table = Table(title="systems failing")
    for column in ("connector", "state", "failures in a row", "last error"):
        table.add_column(column)
    for health in unhealthy:
        if health.paused_at(now):
            assert health.paused_until is not None
            until = health.paused_until.astimezone(UTC).isoformat(timespec="seconds")
            state = f"[red]paused[/red] until {until}"
        else:
            state = "[yellow]retrying[/yellow]"
        table.add_row(health.connector, state, str(health.failures), health.last_error or "")
    return table
