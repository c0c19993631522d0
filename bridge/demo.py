"""``bridge demo``: the whole path on one machine, with nothing to set up.

Starts the LAPOR! and SIDUMAS simulators on free loopback ports, seeds the local
door once, and runs the real configuration loader, connectors, mappings, engine
and an SQLite ledger against them. Simulator state and the ledger are kept in the
demo folder, so a second run shows the point of the ledger: nothing is created twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.config import load_config
from bridge.engine import CycleReport, run_cycle
from bridge.ledger import Ledger
from bridge.routes import build_routes, close_routes

DEMO_SECRETS = {
    # The simulators' public demo credentials; a real deployment sets its own.
    "BRIDGE_CONNECTORS__LAPOR__API_KEY": "demo-key",
    "BRIDGE_CONNECTORS__LAPOR__API_GUID": "demo-guid",
    "BRIDGE_CONNECTORS__SIDUMAS__USERNAME": "bridge@badungkab.go.id",
    "BRIDGE_CONNECTORS__SIDUMAS__PASSWORD": "demo-password",
}

_CONFIG = """\
# Written by `bridge demo` for this run; the simulators listen on new ports each time.
[ledger]
url = "sqlite:///{ledger}"

[connectors.lapor]
type = "lapor"
base_url = "{lapor_url}"
auth_header = "auth"
mapping = "{mappings}/lapor.toml"

[connectors.sidumas]
type = "rest"
base_url = "{sidumas_url}/api/"
mapping = "{mappings}/sidumas.toml"
auth = "login"
login_path = "login"
token_path = "data.token"
list_path = "pengaduan/list"
records_path = "data.data"
last_page_path = "data.last_page"
detail_path = "pengaduan/detail"
detail_id_param = "pengaduan_id"
detail_records_path = "data"
create_path = "pengaduan/add"
created_id_path = "data.id"
success_path = "success"

[[routes]]
name = "sidumas-to-lapor"
source = "sidumas"
target = "lapor"
"""


@dataclass(frozen=True)
class DemoLink:
    ticket: str
    local_id: str
    tracking_id: str
    note: str


@dataclass(frozen=True)
class DemoResult:
    lapor_url: str
    sidumas_url: str
    seeded: int
    report: CycleReport
    links: list[DemoLink]
    created: int
    already_linked: int
    lapor_total: int
    ledger_url: str


def mappings_dir() -> Path:
    """The shipped mapping files: beside the package in a checkout, else ./mappings."""
    beside = Path(__file__).resolve().parents[1] / "mappings"
    return beside if beside.is_dir() else Path.cwd() / "mappings"


def write_config(directory: Path, lapor_url: str, sidumas_url: str, ledger: Path) -> Path:
    """Write a configuration for simulators at these URLs; secrets stay in DEMO_SECRETS."""
    path = directory / "bridge.toml"
    text = _CONFIG.format(
        ledger=ledger, lapor_url=lapor_url, sidumas_url=sidumas_url, mappings=mappings_dir()
    )
    path.write_text(text, encoding="utf-8")
    return path


def run_demo(directory: Path, *, count: int = 50) -> DemoResult:
    from simulators import lapor, sidumas
    from simulators.corpus import load_corpus
    from simulators.lapor_state import LaporState
    from simulators.server import serve_in_thread
    from simulators.sidumas_state import SidumasState

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    lapor_state = LaporState(path=directory / "lapor-state.json")
    sidumas_state = SidumasState(path=directory / "sidumas-state.json")
    sidumas_state.seed(count, load_corpus(limit=count))  # once: a persisted state is kept
    with (
        serve_in_thread(lapor.create_app(lapor_state)) as hub,
        serve_in_thread(sidumas.create_app(sidumas_state)) as door,
    ):
        config_path = write_config(directory, hub.url, door.url, directory / "bridge.db")
        config = load_config(config_path, environ=DEMO_SECRETS)
        ledger = Ledger.open(config.ledger.url)
        routes = build_routes(config, ledger)
        try:
            report = run_cycle(routes[0])
            links = _links(ledger, sidumas_state, report)
        finally:
            close_routes(routes)
            ledger.close()
        return DemoResult(
            lapor_url=hub.url,
            sidumas_url=door.url,
            seeded=len(sidumas_state.records),
            report=report,
            links=links,
            created=report.counts.get("create", 0),
            already_linked=report.counts.get("skip", 0),
            lapor_total=sum(1 for link in links if link.tracking_id != "—"),
            ledger_url=ledger.url_for_display,
        )


def _links(ledger: Ledger, door: object, report: CycleReport) -> list[DemoLink]:
    from simulators.sidumas_state import SidumasState

    assert isinstance(door, SidumasState)
    created = {line.source_id for line in report.lines if line.action in ("create", "link")}
    withheld = {line.source_id: line.action for line in report.lines}
    records = {str(r["id"]): str(r.get("no_tiket", "")) for r in door.records}
    known = ledger.links_for("sidumas", list(records))
    rows = []
    for local_id, ticket in records.items():
        link = known.get(local_id)
        target = ledger.link_of(link.ref, "lapor") if link else None
        if target is not None:
            note = "created now" if local_id in created else "already linked"
        else:
            note = withheld.get(local_id, "not sent")
        rows.append(DemoLink(ticket, local_id, target.remote_id if target else "—", note))
    return rows
