"""The bridge's state as Prometheus metrics, read from the ledger.

``render_metrics`` writes the text exposition format (the same metrics as the daemon's
``/metrics``, see ``bridge.daemon.prom``), which node_exporter's textfile collector,
Grafana Agent or any Prometheus scraper reads. ``bridge metrics`` prints
it (or writes it to a file); the daemon rewrites ``daemon.metrics_file`` after every
cycle when it is set, so a growing quarantine or a paused system raises an alert
without anyone running ``bridge status`` (TRAPS.md: an error printed once, then
retried silently forever).

Only counts, names and times: no record, no personal data, no secret.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

from prometheus_client import generate_latest

from bridge.config import BridgeConfig
from bridge.daemon.prom import build_registry
from bridge.daemon.snapshot import take_snapshot
from bridge.ledger import Ledger
from bridge.privacy.files import OWNER_ONLY, private_mode


def render_metrics(ledger: Ledger, settings: BridgeConfig, now: datetime | None = None) -> str:
    """Every metric of the configured routes, as ``/metrics`` serves them, read once now."""
    snapshot = take_snapshot(ledger, settings, now)
    registry, _counters = build_registry(lambda: snapshot)
    return generate_latest(registry).decode()


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
