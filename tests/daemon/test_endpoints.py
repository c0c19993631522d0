"""The daemon's HTTP endpoints over real loopback HTTP: codes, content, and no personal data."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from bridge.daemon.readiness import Readiness
from bridge.ledger import Ledger
from bridge.sync import CycleReport
from tests.daemon.conftest import Served, serve, settings_for
from tests.daemon.ledger_fill import ROUTE, ticket, tracking_id

PERSON = "Budi Santoso"
PHONE = "081234567890"


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_livez_answers_ok_while_the_process_runs(served: Served) -> None:
    """/livez is 200 "ok" whatever the ledger's state: it checks the process only."""
    answer = served.get("/livez")
    assert (answer.status_code, answer.text) == (200, "ok\n")


def test_readyz_is_503_naming_the_scheduler_until_it_runs(served: Served) -> None:
    """/readyz fails with the failing check named until the scheduler runs, then is 200."""
    before = served.get("/readyz")
    served.service.running.set()
    after = served.get("/readyz")
    verbose = served.get("/readyz?verbose")

    assert before.status_code == 503 and "scheduler not running" in before.text
    assert (after.status_code, after.text) == (200, "ok\n")
    assert verbose.status_code == 200
    assert verbose.text.splitlines()[:3] == [
        "[+]ledger reachable",
        f"[+]migrations at {verbose.text.split('migrations at ')[1].split()[0]}",
        "[+]scheduler running",
    ]


def test_readyz_names_a_ledger_behind_this_version(served: Served) -> None:
    """A ledger whose schema is not at head makes /readyz 503 and says how to upgrade."""
    served.service.running.set()
    with served.ledger.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004_lease_identity'"))
    answer = served.get("/readyz")
    assert answer.status_code == 503
    assert "migrations at 0004_lease_identity" in answer.text
    assert "bridge sync --once" in answer.text


def test_readiness_reports_an_unreachable_ledger() -> None:
    """A PostgreSQL ledger nobody listens for is reported as unreachable, not raised."""
    engine = create_engine("postgresql+psycopg://bridge@127.0.0.1:1/none?connect_timeout=2")
    checks = Readiness(Ledger(engine, "postgresql://127.0.0.1:1/none"), lambda: True).checks()
    by_name = {c.name: c for c in checks}
    assert not by_name["ledger"].ok and by_name["ledger"].detail.startswith("unreachable")
    assert not by_name["migrations"].ok and by_name["scheduler"].ok


def test_metrics_expose_route_sla_and_build_with_bounded_labels(served: Served) -> None:
    """/metrics is Prometheus text with lapor_bridge_ names and route/stage labels only."""
    served.service.on_cycle(CycleReport(ROUTE, False, Counter({"create": 3, "link": 1})))
    answer = served.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)

    assert samples[("lapor_bridge_route_linked", (("route", ROUTE),))] == 60
    assert samples[("lapor_bridge_route_last_cycle_ok", (("route", ROUTE),))] == 1
    assert ("lapor_bridge_route_lag_seconds", (("route", ROUTE),)) in samples
    assert samples[("lapor_bridge_records_total", (("action", "create"), ("route", ROUTE)))] == 3
    assert samples[("lapor_bridge_cycles_total", (("outcome", "ok"), ("route", ROUTE)))] == 1
    stages = {
        dict(labels)["stage"]
        for name, labels in samples
        if name == "lapor_bridge_sla_open_complaints"
    }
    assert stages == {"verification", "follow_up", "auto_close"}
    opened = sum(
        value for (name, _), value in samples.items() if name == "lapor_bridge_sla_open_complaints"
    )
    assert opened == 50  # 60 filled, one in six closed
    assert any(name == "lapor_bridge_build_info" for name, _ in samples)
    label_names = {key for _, labels in samples for key, _ in labels}
    assert label_names <= {"route", "action", "outcome", "stage", "connector", "field"} | {
        "version",
        "python",
    }
    assert all(name.startswith("lapor_bridge_") for name, _ in samples)


def test_metrics_carry_no_complaint_or_record_id(served: Served) -> None:
    """No ticket, tracking id or bridge reference ever appears in /metrics."""
    body = served.get("/metrics").text
    for n in (1, 2, 59):
        assert ticket(n) not in body and tracking_id(n) not in body
    assert "lbtest" not in body


def test_status_json_shows_routes_deadlines_and_set_aside_without_personal_data(
    tmp_path: Path, ledger: Ledger
) -> None:
    """/status.json lists routes, SLA counts, near deadlines and set-aside fields, no PII."""
    record = json.dumps({"nama": PERSON, "telepon": PHONE, "topik": ""})
    ledger.quarantine.add(ROUTE, "sidumas", "SDM-X", f"no title ({PERSON})", "topik", record)
    for served in serve(settings_for(tmp_path), ledger):
        answer = served.get("/status.json")
        page = served.get("/status")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.json()
    (route,) = data["routes"]
    assert route["name"] == ROUTE and route["linked"] == 60 and route["set_aside"] == 1
    assert data["set_aside"] == {ROUTE: {"topik": 1}}
    assert data["sla"]["near"], "every filled complaint is older than its deadline window"
    first = data["sla"]["near"][0]
    assert {i["system"] for i in first["ids"]} == {"sidumas", "lapor"}
    assert first["due_at"].endswith("+07:00")
    for body in (answer.text, page.text):
        assert PERSON not in body and PHONE not in body


def test_status_needs_basic_auth_when_set_while_probes_stay_open(
    tmp_path: Path, ledger: Ledger
) -> None:
    """With http_user/http_password, /status answers 401 without them; probes answer anyway."""
    settings = settings_for(tmp_path, user="desk", password="s3cret-desk")
    for served in serve(settings, ledger):
        refused = served.get("/status")
        wrong = served.get("/status.json", auth=("desk", "guess"))
        allowed = served.get("/status.json", auth=("desk", "s3cret-desk"))
        probes = [served.get(p).status_code for p in ("/livez", "/metrics")]
    assert refused.status_code == 401 and "Basic" in refused.headers["www-authenticate"]
    assert wrong.status_code == 401
    assert allowed.status_code == 200
    assert probes == [200, 200]


def test_unknown_paths_and_writes_are_refused(served: Served) -> None:
    """Unknown paths are 404 with the list of paths; the server is read-only (405)."""
    missing = served.get("/admin")
    posted = httpx.post(served.url + "/status", content=b"x")
    assert missing.status_code == 404 and "/status" in missing.text
    assert posted.status_code == 405


def test_status_shows_what_connectors_noticed_in_both_languages(
    tmp_path: Path, ledger: Ledger
) -> None:
    """A connector's notice on a route's system is in /status.json and on the page; one of a
    system no route names any more is not."""
    said = "sidumas: its newest row is 7 h 0 min in the future; set [mapping] timezone"
    ledger.notices.note("sidumas", [said])
    ledger.notices.note("old-door", ["old-door: something"])
    for served in serve(settings_for(tmp_path), ledger):
        data = served.get("/status.json").json()
        english = served.get("/status").text
        bahasa = served.get("/status?lang=id").text
    [notice] = data["notices"]
    assert (notice["system"], notice["text"]) == ("sidumas", said)
    assert notice["first_seen"].endswith("+00:00")
    assert "Set-up notices" in english and said in english
    assert "Catatan pengaturan" in bahasa and said in bahasa
    assert "old-door" not in english
