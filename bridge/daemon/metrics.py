"""The bridge's state as Prometheus metrics, read from the ledger.

``render_metrics`` writes the text exposition format, which node_exporter's textfile
collector, Grafana Agent or any Prometheus scraper reads. ``bridge metrics`` prints
it (or writes it to a file); the daemon rewrites ``daemon.metrics_file`` after every
cycle when it is set, so a growing quarantine or a paused system raises an alert
without anyone running ``bridge status`` (TRAPS.md: an error printed once, then
retried silently forever).

Only counts, names and times: no record, no personal data, no secret.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bridge.ledger import Ledger
from bridge.privacy.files import OWNER_ONLY, private_mode

PREFIX = "lapor_bridge"


def render_metrics(ledger: Ledger, routes: Sequence[str], now: datetime | None = None) -> str:
    """Every metric for ``routes`` (and every connector and lease the ledger knows)."""
    now = now or datetime.now(UTC)
    families: list[tuple[str, str, list[tuple[dict[str, str], float]]]] = []

    def family(name: str, help_text: str) -> list[tuple[dict[str, str], float]]:
        samples: list[tuple[dict[str, str], float]] = []
        families.append((f"{PREFIX}_{name}", help_text, samples))
        return samples

    linked = family("route_linked", "Complaints this route has linked in its target.")
    pending = family("route_pending_creates", "Creates started whose outcome is not known yet.")
    quarantined = family("route_quarantined", "Records set aside, waiting for a person.")
    reviews = family("route_reviews_open", "Review flags (unknown status, refused move) open.")
    last_ok = family("route_last_cycle_ok", "1 if the route's last cycle went through, else 0.")
    success = family(
        "route_last_success_timestamp_seconds", "When the last good cycle finished (Unix time)."
    )
    for route in routes:
        status = ledger.cycles.status(route)
        label = {"route": route}
        linked.append((label, status.linked))
        pending.append((label, status.pending_creates))
        quarantined.append((label, status.quarantined))
        reviews.append((label, status.reviews))
        if status.last_cycle is not None and status.last_cycle.finished_at is not None:
            last_ok.append((label, 1.0 if status.last_cycle.ok else 0.0))
        if status.last_success_at is not None:
            success.append((label, status.last_success_at.timestamp()))

    failures = family("connector_failures", "Failed cycles in a row blamed on this system.")
    paused = family("connector_paused", "1 while the system is paused after repeated failures.")
    for health in ledger.health.listed():
        label = {"connector": health.connector}
        failures.append((label, health.failures))
        paused.append((label, 1.0 if health.paused_at(now) else 0.0))

    held = family("route_lease_held", "1 while a replica holds the route's lease.")
    runs = family("route_lease_run_number", "How many times the route's lease was taken.")
    for lease in ledger.leases.listed():
        held.append(({"route": lease.route}, 0.0 if lease.is_free(now) else 1.0))
        runs.append(({"route": lease.route}, lease.run_number))

    return "".join(_family_text(*f) for f in families if f[2])


def write_atomically(path: Path, text: str, *, mode: int = OWNER_ONLY) -> None:
    """Replace ``path`` in one step, so a reader never sees half a file, even after a crash.

    Owner-only (a stricter umask narrows it): the metrics name routes and systems and
    count complaints. An exporter running as another user reads it through a group the
    operator grants (``chmod g+r``) or by running as the bridge's user.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, private_mode(mode))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _family_text(name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
    for labels, value in samples:
        inner = ",".join(f'{key}="{_escape(text)}"' for key, text in labels.items())
        lines.append(f"{name}{{{inner}}} {_number(value)}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
