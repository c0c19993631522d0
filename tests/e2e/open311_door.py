"""An Open311 server as a bridge door, into LAPOR!: the credentials, the config, the door.

``write_open311_config`` writes a ``bridge.toml`` with one route, ``open311-to-lapor``, from
an Open311 server (the simulator) to LAPOR! through the shipped mappings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bridge.demo import DEMO_SECRETS, mappings_dir
from bridge.ledger import Ledger
from bridge.sync import CycleReport
from bridge.testing.simulators import open311
from bridge.testing.simulators.open311_state import Open311State
from tests.simulated import open_ledger, sync_route

ROUTE = "open311-to-lapor"
SECRETS = {
    **{k: v for k, v in DEMO_SECRETS.items() if "__LAPOR__" in k},
    "BRIDGE_CONNECTORS__OPEN311__API_KEY": open311.DEMO_API_KEY,
}
"""The LAPOR! simulator's demo credentials and the Open311 simulator's API key."""

_CONFIG = """\
[ledger]
url = "sqlite:///{ledger}"

[agency]
institution_id = "1001"
location_id = "5103"
channel = "9"

[connectors.lapor]
type = "lapor"
base_url = "{lapor_url}"
auth_header = "auth"
mapping = "{mappings}/lapor.toml"

[connectors.open311]
type = "open311"
base_url = "{open311_url}/open311/v2/"
jurisdiction_id = "badungkab.go.id"
mapping = "{mappings}/open311.toml"
{extra}
[[routes]]
name = "{route}"
source = "open311"
target = "lapor"
"""


def write_open311_config(
    directory: Path, lapor_url: str, open311_url: str, extra: str = ""
) -> Path:
    """``directory/bridge.toml``, its ledger ``directory/bridge.db``.

    ``extra``: more lines (each ending in a newline) for ``[connectors.open311]``.
    """
    path = directory / "bridge.toml"
    text = _CONFIG.format(
        ledger=directory / "bridge.db",
        lapor_url=lapor_url,
        open311_url=open311_url,
        mappings=mappings_dir(),
        extra=extra,
        route=ROUTE,
    )
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Door:
    """The Open311 simulator's state and the bridge configuration that reads it into LAPOR!."""

    state: Open311State
    config_path: Path

    def sync(self) -> CycleReport:
        """One cycle of :data:`ROUTE`."""
        return sync_route(self.config_path, ROUTE, SECRETS)

    def ledger(self) -> Ledger:
        """The bridge's ledger (a context manager: close it after reading)."""
        return open_ledger(self.config_path, SECRETS)
