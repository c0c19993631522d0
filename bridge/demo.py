"""``bridge demo``: the whole path on one machine, both directions, nothing to set up.

Starts the LAPOR! and SIDUMAS simulators on free loopback ports, seeds them once,
and runs the real configuration loader, connectors, mappings, engine and an SQLite
ledger against them, in two rounds:

1. complaints filed in SIDUMAS reach LAPOR!, and complaints LAPOR! disposed to
   Badung reach SIDUMAS;
2. an officer answers in SIDUMAS and LAPOR!'s admin answers in LAPOR! (done once,
   as people would), and the next round carries each follow-up and status change
   to the other side.

Simulator state and the ledger are kept in the demo folder, so a second run shows
the point of the ledger: nothing is created or copied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge.config import load_config
from bridge.ledger import Ledger
from bridge.sync import CycleReport, build_routes, close_routes, run_cycle

if TYPE_CHECKING:
    from bridge.testing.simulators.lapor_state import LaporState
    from bridge.testing.simulators.sidumas_state import SidumasState

DEMO_SECRETS = {
    # The simulators' public demo credentials; a real deployment sets its own.
    "BRIDGE_CONNECTORS__LAPOR__API_KEY": "demo-key",
    "BRIDGE_CONNECTORS__LAPOR__API_GUID": "demo-guid",
    "BRIDGE_CONNECTORS__SIDUMAS__USERNAME": "bridge@badungkab.go.id",
    "BRIDGE_CONNECTORS__SIDUMAS__PASSWORD": "demo-password",
}
BADUNG = 1001  # the simulated LAPOR! institution id of Pemerintah Kabupaten Badung
OFFICER_ANSWER = "Sudah kami tinjau ke lokasi; perbaikan dijadwalkan minggu ini. (Dinas PUPR)"
ADMIN_NOTE = "Laporan telah diverifikasi dan diteruskan ke Pemerintah Kabupaten Badung."

_CONFIG = """\
# Written by `bridge demo` for this run; the simulators listen on new ports each time.
[ledger]
url = "sqlite:///{ledger}"

[agency]
institution_id = "{badung}"
location_id = "5103"
channel = "9"
name = "Pemerintah Kabupaten Badung"

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
ref_field = "ref_eksternal"
search_param = "s"
followups_path = "pengaduan/tindaklanjut"
followups_id_param = "pengaduan_id"
followups_records_path = "data"
add_followup_path = "pengaduan/tanggapan"
add_followup_id_field = "pengaduan_id"
added_followup_id_path = "data.id"
status_path = "pengaduan/status"
status_id_field = "pengaduan_id"

[[routes]]
name = "sidumas-to-lapor"
source = "sidumas"
target = "lapor"

[[routes]]
name = "lapor-to-sidumas"
source = "lapor"
target = "sidumas"
"""


@dataclass(frozen=True)
class DemoLink:
    ticket: str
    local_id: str
    tracking_id: str
    note: str


@dataclass(frozen=True)
class DemoStory:
    """One follow-up typed on one side, and what the other side shows afterwards."""

    where: str
    text: str
    copied_to: str
    copied: bool
    status_there: str


@dataclass(frozen=True)
class DemoResult:
    lapor_url: str
    sidumas_url: str
    seeded: int
    reports: list[CycleReport]
    links: list[DemoLink]
    stories: list[DemoStory]
    created_in_lapor: int
    created_in_sidumas: int
    already_linked: int
    lapor_total: int
    ledger_url: str

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)


def mappings_dir() -> Path:
    """The shipped mapping files: beside the package in a checkout, else ./mappings."""
    beside = Path(__file__).resolve().parents[1] / "mappings"
    return beside if beside.is_dir() else Path.cwd() / "mappings"


def write_config(directory: Path, lapor_url: str, sidumas_url: str, ledger: Path) -> Path:
    """Write a configuration for simulators at these URLs; secrets stay in DEMO_SECRETS."""
    path = directory / "bridge.toml"
    text = _CONFIG.format(
        ledger=ledger.absolute(),  # a relative path would be read from `directory`
        lapor_url=lapor_url,
        sidumas_url=sidumas_url,
        mappings=mappings_dir(),
        badung=BADUNG,
    )
    path.write_text(text, encoding="utf-8")
    return path


def run_demo(directory: Path, *, count: int = 50) -> DemoResult:
    from bridge.testing.simulators import lapor, sidumas
    from bridge.testing.simulators.corpus import load_corpus
    from bridge.testing.simulators.lapor_state import LaporState
    from bridge.testing.simulators.server import serve_in_thread
    from bridge.testing.simulators.sidumas_state import SidumasState

    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    hub_state = LaporState(path=directory / "lapor-state.json")
    door_state = SidumasState(path=directory / "sidumas-state.json")
    door_state.seed(count, load_corpus(limit=count))  # once: a persisted state is kept
    if hub_state.seed_from_corpus(12, list(reversed(load_corpus()))[:12]):
        _dispose_some_to_badung(hub_state)
    with (
        serve_in_thread(lapor.create_app(hub_state)) as hub,
        serve_in_thread(sidumas.create_app(door_state)) as door,
    ):
        config_path = write_config(directory, hub.url, door.url, directory / "bridge.db")
        config = load_config(config_path, environ=DEMO_SECRETS)
        ledger = Ledger.open(config.ledger.url)
        routes = build_routes(config, ledger)
        try:
            reports = [run_cycle(route) for route in routes]
            people_acted = _people_answer(ledger, hub_state, door_state)
            reports += [run_cycle(route) for route in routes]
            links = _links(ledger, door_state, reports[0])
            stories = _stories(ledger, hub_state, door_state, people_acted)
        finally:
            close_routes(routes)
            ledger.close()
    return DemoResult(
        lapor_url=hub.url,
        sidumas_url=door.url,
        seeded=len(door_state.records),
        reports=reports,
        links=links,
        stories=stories,
        created_in_lapor=_count(reports, "sidumas-to-lapor", "create"),
        created_in_sidumas=_count(reports, "lapor-to-sidumas", "create"),
        already_linked=reports[0].counts.get("skip", 0),
        lapor_total=sum(1 for link in links if link.tracking_id != "—"),
        ledger_url=ledger.url_for_display,
    )


def _count(reports: list[CycleReport], route: str, action: str) -> int:
    return sum(r.counts.get(action, 0) for r in reports if r.route == route)


def _dispose_some_to_badung(hub: LaporState) -> None:
    """Citizens filed these on lapor.go.id; the admin disposes a few of them to Badung."""
    for tracking_id in sorted(hub.complaints)[:4]:
        if hub.complaints[tracking_id]["disposition_id"] != BADUNG:
            hub.dispose(tracking_id, BADUNG)


def _people_answer(
    ledger: Ledger, hub: LaporState, door: SidumasState
) -> tuple[str | None, str | None]:
    """Once per demo folder: an officer answers in SIDUMAS, the admin answers in LAPOR!.

    Returns the SIDUMAS id of a complaint that came from LAPOR!, and the LAPOR!
    tracking id of one that came from SIDUMAS.
    """
    from_hub = _copy_in(ledger, "lapor", _filed_on_lapor(hub), "sidumas")
    from_door = _copy_in(ledger, "sidumas", _filed_on_sidumas(door), "lapor")
    if from_hub is not None and not _has_text(door.find(from_hub).get("tanggapans"), "tanggapan"):
        door.add_tanggapan(
            from_hub,
            {"tanggapan": OFFICER_ANSWER, "nama": "Dinas PUPR", "tipe": 1, "status_id": 2},
        )
    if from_door is not None and not _has_text(hub.get(int(from_door)).get("followups"), "content"):
        if hub.get(int(from_door))["status_code"] == 0:
            hub.verify(int(from_door))
        hub.add_followup({"complaint_id": from_door, "content": ADMIN_NOTE}, [])
    return from_hub, from_door


def _filed_on_lapor(hub: LaporState) -> list[str]:
    """Complaints citizens filed on LAPOR! itself and that LAPOR! disposed to Badung."""
    return [
        str(tracking_id)
        for tracking_id, record in sorted(hub.complaints.items())
        if record.get("disposition_id") == BADUNG and "#lb" not in str(record.get("tags_raw"))
    ]


def _filed_on_sidumas(door: SidumasState) -> list[str]:
    """Complaints citizens filed in SIDUMAS (not the bridge's copies)."""
    return [str(r["id"]) for r in door.records if not r.get("ref_eksternal")]


def _copy_in(ledger: Ledger, system: str, ids: list[str], other: str) -> str | None:
    """The id in ``other`` of the first of ``ids`` (in ``system``) that the bridge copied there."""
    links = ledger.links.by_remote(system, ids)
    for record_id in ids:
        link = links.get(record_id)
        copy = ledger.links.of(link.ref, other) if link else None
        if copy is not None:
            return copy.remote_id
    return None


def _has_text(items: Any, key: str) -> bool:
    return any(str(item.get(key, "")) in (OFFICER_ANSWER, ADMIN_NOTE) for item in items or [])


def _stories(
    ledger: Ledger, hub: LaporState, door: SidumasState, acted: tuple[str | None, str | None]
) -> list[DemoStory]:
    """Where each answer was typed, and whether the other side now shows it."""
    from bridge.testing.simulators.lapor_rules import STATUSES

    in_door, in_hub = acted
    stories = []
    lapor_id = _other_side(ledger, "sidumas", in_door, "lapor")
    if in_door is not None and lapor_id is not None:
        there = hub.get(int(lapor_id))
        stories.append(
            DemoStory(
                where=f"SIDUMAS #{in_door}",
                text=OFFICER_ANSWER,
                copied_to=f"LAPOR! {lapor_id}",
                copied=_has_text(there.get("followups"), "content"),
                status_there=STATUSES.get(there.get("status_code", -1), "?"),
            )
        )
    door_id = _other_side(ledger, "lapor", in_hub, "sidumas")
    if in_hub is not None and door_id is not None:
        there = door.find(door_id)
        stories.append(
            DemoStory(
                where=f"LAPOR! {in_hub}",
                text=ADMIN_NOTE,
                copied_to=f"SIDUMAS #{door_id}",
                copied=_has_text(there.get("tanggapans"), "tanggapan"),
                status_there=str(there.get("status_pengaduan") or there.get("status")),
            )
        )
    return stories


def _other_side(ledger: Ledger, system: str, record_id: str | None, other: str) -> str | None:
    if record_id is None:
        return None
    link = ledger.links.by_remote(system, [record_id]).get(record_id)
    copy = ledger.links.of(link.ref, other) if link else None
    return copy.remote_id if copy else None


def _links(ledger: Ledger, door: SidumasState, report: CycleReport) -> list[DemoLink]:
    created = {line.source_id for line in report.lines if line.action in ("create", "link")}
    withheld = {line.source_id: line.action for line in report.lines}
    records = {str(r["id"]): str(r.get("no_tiket", "")) for r in door.records}
    known = ledger.links.by_remote("sidumas", list(records))
    rows = []
    for local_id, ticket in records.items():
        link = known.get(local_id)
        if link is not None and link.origin_system != "sidumas":
            continue  # came from LAPOR!: shown in the other direction's count
        target = ledger.links.of(link.ref, "lapor") if link else None
        if target is not None:
            note = "created now" if local_id in created else "already linked"
        else:
            note = withheld.get(local_id, "not sent")
        rows.append(DemoLink(ticket, local_id, target.remote_id if target else "—", note))
    return rows
