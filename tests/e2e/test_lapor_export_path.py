"""LAPOR! admin Excel exports dropped in a folder reach SIDUMAS exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.demo import DEMO_SECRETS, mappings_dir
from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import CycleReport, build_routes, close_routes, run_cycle
from bridge.testing.simulators.lapor_export import write_export
from tests.simulated import Sims

pytestmark = pytest.mark.e2e
BADUNG = 1001


def export_route_config(sims: Sims, folder: Path, tmp_path: Path) -> Path:
    """The demo's SIDUMAS connector, and the export folder as the inbound LAPOR! source."""
    sidumas = sims.config_path.read_text(encoding="utf-8").split("[connectors.sidumas]")[1]
    sidumas = sidumas.split("[[routes]]")[0]
    text = f"""
[ledger]
url = "sqlite:///{tmp_path / "export.db"}"

[connectors.lapor-export]
type = "spreadsheet"
path = "{folder}"
id_column = "Tracking ID"
mapping = "{mappings_dir()}/lapor-export.toml"

[connectors.sidumas]
{sidumas}
[[routes]]
name = "export-to-sidumas"
source = "lapor-export"
target = "sidumas"
"""
    path = tmp_path / "export.toml"
    path.write_text(text, encoding="utf-8")
    return path


def sync(path: Path) -> CycleReport:
    secrets = {k: v for k, v in DEMO_SECRETS.items() if "__SIDUMAS__" in k}
    config = load_config(path, environ=secrets)
    ledger = Ledger.open(config.ledger.url)
    routes = build_routes(config, ledger)
    try:
        return run_cycle(routes[0])
    finally:
        close_routes(routes)
        ledger.close()


def disposed_to_badung(sims: Sims) -> list[str]:
    return [str(t) for t, c in sims.hub_state.complaints.items() if c["disposition_id"] == BADUNG]


def test_exports_in_a_folder_are_created_once_and_new_exports_are_picked_up(
    sims: Sims, tmp_path: Path
) -> None:
    """Export 1 → each complaint once; export 2 (one more disposal) adds only the new one."""
    sims.hub_state.seed_from_corpus(8)
    folder = tmp_path / "exports"
    folder.mkdir()
    write_export(sims.hub_state, folder / "export-1.xlsx", institution_id=BADUNG)
    config = export_route_config(sims, folder, tmp_path)
    first = sync(config)
    assert first.ok, first.error
    undisposed = next(
        t for t, c in sorted(sims.hub_state.complaints.items()) if c["disposition_id"] != BADUNG
    )
    sims.hub_state.dispose(undisposed, BADUNG)
    write_export(sims.hub_state, folder / "export-2.xlsx", institution_id=BADUNG)
    second = sync(config)
    third = sync(config)

    assert second.ok and second.counts["create"] == 1
    assert third.ok and third.counts.get("create", 0) == 0
    refs = Counter(r.get("ref_eksternal") for r in sims.door_state.records)
    for tracking_id in disposed_to_badung(sims):
        assert refs[make_ref("lapor-export", tracking_id)] == 1
