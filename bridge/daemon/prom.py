"""``/metrics``: the bridge's state and this process's counters, with prometheus-client.

Names start with ``lapor_bridge_``, values are in base units (seconds, records), and
every label is bounded by the configuration or the code: route, connector, stage,
action, outcome, field. Never a complaint, user or phone id (TRAPS.md: silence and leaks).

Gauges come from the latest ``Snapshot`` at scrape time (no ledger query per scrape);
counters (``*_total``) count what this process did since it started.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bridge import __version__
from bridge.daemon.snapshot import Snapshot
from bridge.http import RequestEvent
from bridge.sla import BREACH_STAGES
from bridge.sync import CycleReport

PREFIX = "lapor_bridge"


class SnapshotCollector(Collector):
    """Gauges read from the latest snapshot (nothing when none was taken yet)."""

    def __init__(self, latest: Callable[[], Snapshot | None]) -> None:
        self._latest = latest

    def collect(self) -> Iterator[Metric]:
        snap = self._latest()
        if snap is None:
            return
        yield from _route_gauges(snap)
        yield from _system_gauges(snap)
        yield from _sla_gauges(snap)
        taken = _gauge("snapshot_timestamp_seconds", "When the state shown here was read.", [])
        taken.add_metric([], snap.taken_at.timestamp())
        yield taken


class CycleCounters:
    """This process's cycles and records, fed by the daemon after every cycle."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.cycles = _counter(
            registry, "cycles", "Cycles run, by route and outcome (ok, failed, paused).", "outcome"
        )
        self.records = _counter(
            registry, "records", "Records handled, by route and action (create, link, …).", "action"
        )

    def __call__(self, report: CycleReport) -> None:
        outcome = "paused" if report.paused else "ok" if report.ok else "failed"
        self.cycles.labels(report.route, outcome).inc()
        for action, count in report.counts.items():
            self.records.labels(report.route, action).inc(count)


class HttpCounters:
    """This process's HTTP requests per remote host (``bridge.http.watch_requests``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from sending a request to its answer's headers, per remote host.",
            ["remote"],
            registry=registry,
        )
        self.answers = Counter(
            f"{PREFIX}_http_responses",
            "Answers received, per remote host and code class (2xx, 4xx, 429, 5xx, …).",
            ["remote", "code"],
            registry=registry,
        )
        self.retries = Counter(
            f"{PREFIX}_http_retries",
            "Requests sent again, per remote host.",
            ["remote"],
            registry=registry,
        )

    def __call__(self, event: RequestEvent) -> None:
        if event.retry:
            self.retries.labels(event.remote).inc()
            return
        if event.status is None:
            return
        self.duration.labels(event.remote).observe(event.seconds)
        code = "429" if event.status == 429 else f"{event.status // 100}xx"
        self.answers.labels(event.remote, code).inc()


def build_registry(
    latest: Callable[[], Snapshot | None],
) -> tuple[CollectorRegistry, CycleCounters]:
    """A registry of its own (not the process-wide default), and the cycle counters in it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(latest))
    Info(f"{PREFIX}_build", "The bridge's version.", registry=registry).info(
        {"version": __version__, "python": platform.python_version()}
    )
    return registry, CycleCounters(registry)


def _counter(registry: CollectorRegistry, name: str, text: str, label: str) -> Counter:
    """A counter of this process, by route and ``label``."""
    return Counter(f"{PREFIX}_{name}", text, ["route", label], registry=registry)


def _gauge(name: str, help_text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", help_text, labels=labels)


def _route_gauges(snap: Snapshot) -> Iterator[Metric]:
    rows = {
        "route_linked": "Complaints this route has linked in its target.",
        "route_pending_creates": "Creates started whose outcome is not known yet.",
        "route_quarantined": "Records set aside (quarantined), waiting for a person.",
        "route_reviews_open": "Review flags (unknown status, refused move) open.",
        "route_last_cycle_ok": "1 if the route's last cycle went through, else 0.",
        "route_last_success_timestamp_seconds": "When the last good cycle finished (Unix time).",
        "route_lag_seconds": "Seconds since the last good cycle finished.",
    }
    families = {key: _gauge(key, text, ["route"]) for key, text in rows.items()}
    for status in snap.routes:
        label = [status.route]
        families["route_linked"].add_metric(label, status.linked)
        families["route_pending_creates"].add_metric(label, status.pending_creates)
        families["route_quarantined"].add_metric(label, status.quarantined)
        families["route_reviews_open"].add_metric(label, status.reviews)
        last = status.last_cycle
        if last is not None and last.finished_at is not None:
            families["route_last_cycle_ok"].add_metric(label, 1.0 if last.ok else 0.0)
        if status.last_success_at is not None:
            success = families["route_last_success_timestamp_seconds"]
            success.add_metric(label, status.last_success_at.timestamp())
            lag = status.lag(snap.taken_at)
            families["route_lag_seconds"].add_metric(label, lag.total_seconds() if lag else 0.0)
    yield from families.values()
    reasons = _gauge(
        "set_aside_records", "Records set aside, by route and field at fault.", ["route", "field"]
    )
    for route, counts in snap.set_aside_reasons.items():
        for field_name, count in counts.items():
            reasons.add_metric([route, field_name], count)
    yield reasons


def _system_gauges(snap: Snapshot) -> Iterator[Metric]:
    by_system = ["connector"]
    failures = _gauge("connector_failures", "Failed cycles in a row blamed on it.", by_system)
    paused = _gauge("connector_paused", "1 while the system is paused after failures.", by_system)
    for health in snap.systems:
        failures.add_metric([health.connector], health.failures)
        paused.add_metric([health.connector], 1.0 if health.paused_at(snap.taken_at) else 0.0)
    held = _gauge("route_lease_held", "1 while a replica holds the route's lease.", ["route"])
    runs = _gauge("route_lease_run_number", "Times the route's lease was taken.", ["route"])
    for lease in snap.leases:
        held.add_metric([lease.route], 0.0 if lease.is_free(snap.taken_at) else 1.0)
        runs.add_metric([lease.route], lease.run_number)
    yield from (failures, paused, held, runs)


def _sla_gauges(snap: Snapshot) -> Iterator[Metric]:
    texts = {
        "open": "Open complaints in this stage (verification, follow_up, auto_close).",
        "due_soon": "Open complaints whose deadline is within sla_due_soon_days.",
        "overdue": "Open complaints past their deadline.",
    }
    families = {key: _gauge(f"sla_{key}_complaints", t, ["stage"]) for key, t in texts.items()}
    for stage in sorted({*BREACH_STAGES, *snap.sla}):  # one order in every process
        counts = snap.sla.get(stage, {})
        for key, family in families.items():
            family.add_metric([stage], counts.get(key, 0))
    yield from families.values()
    provisional = _gauge(
        "sla_provisional_years", "Years in the calendar whose cuti bersama are not known yet.", []
    )
    provisional.add_metric([], len(snap.provisional_years))
    yield provisional
