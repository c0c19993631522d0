"""The read commands for people: 80 columns, config sections kept literally, local times, JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bridge import __version__
from bridge.ledger import Ledger
from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e
ERROR = "mapping: no value for 'X-9' in [values.category]: add it to [values.category]"
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")


def test_status_fits_80_columns_with_sections_literal_and_agency_times(sims: Sims) -> None:
    """At 80 columns every line fits, [values.category] survives, times are WIB to the second."""
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    with Ledger.open(sims.config().ledger.url, create=False) as ledger:
        run = ledger.cycles.start("sidumas-to-lapor")
        ledger.cycles.finish(run, ok=False, counts={}, error=ERROR)

    shown = bridge("status", "--config", config, env={"COLUMNS": "80"})

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert shown.stdout.count("[values.category]") == 2
    assert "FAILED" in shown.stdout
    assert " WIB" in shown.stdout and not MICROSECONDS.search(shown.stdout)


def test_status_and_trace_print_json_for_scripts(sims: Sims) -> None:
    """--json on status, metrics and trace; trace finds a complaint by LAPOR! and SIDUMAS id."""
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    status = json.loads(bridge("status", "--config", config, "--json").stdout)
    routes = {r["route"]: r for r in status["routes"]}
    assert routes["sidumas-to-lapor"]["linked"] > 0
    assert routes["sidumas-to-lapor"]["last_cycle"]["ok"] is True
    samples = json.loads(bridge("metrics", "--config", config, "--json").stdout)
    linked = {
        s["labels"]["route"]: s["value"]
        for s in samples
        if s["name"] == "lapor_bridge_route_linked"
    }
    assert linked["sidumas-to-lapor"] == routes["sidumas-to-lapor"]["linked"]

    local_id = str(sims.door_state.records[0]["id"])
    with Ledger.open(sims.config().ledger.url, create=False) as ledger:
        (found,) = ledger.links.by_remote("sidumas", [local_id]).values()
        lapor = ledger.links.of(found.ref, "lapor")
    assert lapor is not None
    lapor_id = lapor.remote_id
    by_lapor = json.loads(bridge("trace", lapor_id, "--config", config, "--json").stdout)
    by_local = json.loads(bridge("trace", local_id, "--config", config, "--json").stdout)
    assert by_lapor == by_local
    assert by_lapor[0]["ref"] == found.ref
    assert {link["system"] for link in by_lapor[0]["links"]} == {"sidumas", "lapor"}


def test_version_is_an_option_and_a_command() -> None:
    """`bridge --version` and `bridge version` both print the version and exit 0."""
    for args in (("--version",), ("version",)):
        shown = bridge(*args)
        assert shown.returncode == 0 and shown.stdout.strip() == f"lapor-bridge {__version__}"


def test_quarantine_and_review_print_json_for_scripts(sims: Sims) -> None:
    """quarantine and review list/show give JSON (records decoded); the list fits 80 columns."""
    config = str(sims.config_path)
    assert bridge("sync", "--once", "--config", config).returncode == 0
    with Ledger.open(sims.config().ledger.url, create=False) as ledger:
        ledger.quarantine.add("sidumas-to-lapor", "sidumas", "77", ERROR, "kategori", '{"a": 1}')
        local_id = str(sims.door_state.records[0]["id"])
        found = ledger.links.by_remote("sidumas", [local_id])[local_id]
        ledger.reviews.flag("sidumas-to-lapor", found.ref, "lapor", "unknown_status", "??", {})

    (item,) = json.loads(bridge("quarantine", "list", "--config", config, "--json").stdout)
    shown = json.loads(
        bridge("quarantine", "show", str(item["id"]), "--config", config, "--json").stdout
    )
    (flag,) = json.loads(bridge("review", "list", "--config", config, "--json").stdout)
    review = json.loads(
        bridge("review", "show", str(flag["id"]), "--config", config, "--json").stdout
    )

    narrow = bridge("quarantine", "list", "--config", config, env={"COLUMNS": "80"}).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert narrow.count("[values.category]") == 2
    assert item["reason"] == ERROR and shown["record_json"] == {"a": 1}
    assert flag["ref"] == found.ref and review["kind"] == "unknown_status" and review["to_do"]


def test_the_demo_labels_its_cycle_summary_and_explains_the_words(tmp_path: Path) -> None:
    """The demo numbers its cycles by route and explains each action word it printed."""
    shown = bridge("demo", "--dir", str(tmp_path / "demo"), "--count", "6")
    assert shown.returncode == 0, shown.stderr
    assert "The demo's cycles, in the order they ran (records per action):" in shown.stdout
    assert "  1. route sidumas-to-lapor: create 6" in shown.stdout
    assert "create: new record made in the target" in " ".join(shown.stdout.split())


def test_a_dry_run_lists_one_record_per_line_within_80_columns(sims: Sims) -> None:
    """Each planned create shows its action, source id and ticket on a line that fits."""
    shown = bridge(
        "sync", "--once", "--dry-run", "--config", str(sims.config_path), env={"COLUMNS": "80"}
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    ticket = sims.door_state.records[0]["no_tiket"]
    assert any(line.startswith("create  source ") and ticket in line for line in lines)
