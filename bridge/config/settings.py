"""The validated settings: one frozen model per section, and the whole ``BridgeConfig``.

Each section model forbids unknown keys and checks its own values; ``bridge.config.load``
builds them from the file and the environment. ``build_connector`` turns a connector's
settings into the connector, through the registry (``bridge.connector``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from bridge.config.env import listing
from bridge.connector import Connector, ConnectorSettings, connector_class
from bridge.errors import ConfigError
from bridge.health import PausePolicy
from bridge.log import LOG_LEVELS
from bridge.model import Status
from bridge.privacy import scrub_text

DEFAULT_STATE_FILE = ".lapor-bridge-state.json"

ConnectorTypes = Mapping[str, type[Connector]]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerSettings(_Section):
    """Where the ledger lives: an SQLAlchemy URL (SQLite file or PostgreSQL).

    ``load_config`` reads a relative SQLite path from the configuration file's folder
    (wherever the value came from, the file or ``BRIDGE_LEDGER__URL``), and fills in
    ``state_file``: where the bridge notes which ledger it last wrote to.
    """

    url: str = "sqlite:///bridge.db"
    state_file: str | None = None
    # Systems the ledger still remembers but no connector names any more, on purpose
    # (a door closed for good). Any other such system stops the bridge: see bridge.sync.wiring.
    retired_systems: tuple[str, ...] = ()
    # Who this bridge is, in every reference it writes into LAPOR!: unique per agency, so
    # two pemda that name their connectors alike never take each other's complaints.
    installation: str | None = None
    quarantine_retention_days: int = Field(default=90, ge=0)
    """Days a set-aside record's stored payload is kept before it is purged (0: for ever).
    The quarantine row, its reason and the complaint's history stay; a retry re-reads the source."""

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # A PostgreSQL URL may carry a password; a repr ends up in logs and tracebacks.
        yield "url", scrub_text(self.url)


class DuplicateSettings(_Section):
    """``[routes.duplicates]``: the cross-door duplicate check before a create (``bridge.dedup``).

    The defaults were measured on the labelled 2017 LAPOR! set (bench/README.md). Off
    until ``enabled = true``: a route turning it on sends its grey band to a person.
    """

    enabled: bool = False
    window_days: float = Field(default=30, gt=0)
    """Only complaints made this close in time are compared."""
    auto_score: float = Field(default=80, ge=0, le=100)
    """Text similarity (0-100) needed, with the same hashed reporter key, to link alone."""
    review_score: float = Field(default=70, ge=0, le=100)
    """Text similarity from which a person is asked (``bridge review duplicates``)."""
    reporter_review_score: float = Field(default=50, ge=0, le=100)
    """Text similarity from which a shared reporter key alone asks a person."""
    exact_min_chars: int = Field(default=60, ge=1)
    """An identical normalised text links alone only when at least this long."""
    max_candidates: int = Field(default=20, ge=1)
    evidence: tuple[Literal["exact", "reporter"], ...] = ("exact", "reporter")
    """Which deterministic evidence may link without a person; () sends every match to review."""


class PrivacySettings(_Section):
    """A route's ``[routes.privacy]``: what leaves it for an *anonim* complaint."""

    scrub_anonymous_text: bool = True
    """Remove the reporter's name, NIK, phone and e-mail from the title, text and file names."""
    send_anonymous_location: bool = False
    """Send the address and coordinates of an anonim complaint: only where the place is needed
    and is not the reporter's home (a broken road, not a neighbour's noise)."""


class RouteSettings(_Section):
    """One one-way route: records flow from ``source`` to ``target`` every interval."""

    name: str
    source: str
    target: str
    interval_seconds: float = Field(default=300, gt=0)
    jitter_seconds: float = Field(default=30, ge=0)
    lookback_seconds: float = Field(default=600, ge=0)
    """How far before the stored cursor each pull starts again, so late-committed rows are seen."""
    repoll_budget: int = Field(default=100, ge=0)
    """Linked, non-final complaints re-checked per cycle at most (detail and follow-ups)."""
    linked_retry_seconds: float = Field(default=300, ge=0)
    """A follow-up or status write that failed for a transient reason is tried again after this."""
    forward_on_status: Status | None = None
    """When the source sets a complaint to this status, forward it (Bukan Wewenang) instead."""
    forward_to: str | None = None
    """The institution id complaints are forwarded to (required with forward_on_status)."""
    forward_reason: str = "Bukan wewenang instansi ini"
    max_create_attempts: int = Field(default=5, ge=1)
    """Cycles a create may stay unconfirmed (5xx, lost answer) before the record is set aside."""
    create_settle_seconds: float = Field(default=10, ge=0)
    """How long after an unconfirmed create the target is searched for it (a lagging index)."""
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)

    @model_validator(mode="after")
    def _forward_needs_a_target(self) -> RouteSettings:
        if self.forward_on_status is not None and not self.forward_to:
            raise ValueError("forward_on_status needs forward_to: the institution id to forward to")
        return self

    enabled: bool = True
    duplicates: DuplicateSettings = Field(default_factory=lambda: DuplicateSettings())
    """``[routes.duplicates]``: the cross-door duplicate check (off unless enabled)."""


class AgencySettings(_Section):
    """Who this bridge speaks for, in one place (``[agency]``).

    - ``institution_id``: the agency's id in LAPOR!'s institution master (#7); the
      ``lapor`` connector's ``disposition_id`` and the mapping's ``disposition_id`` /
      ``institution_from_id`` constants must agree with it (checked when it is built).
    - ``location_id``: its region id in LAPOR! (``location_id`` on create).
    - ``channel``: the LAPOR! channel id its complaints are filed under.
    - ``name``: its name as LAPOR!'s master spells it, e.g. "Pemerintah Kabupaten Badung".

    A mapping file takes any of them as ``{ agency = "KEY" }`` (``bridge.mapping._agency``).
    """

    institution_id: str | None = None
    location_id: str | None = None
    channel: str | None = None
    name: str | None = None

    @field_validator("institution_id", "location_id", "channel", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        # LAPOR! ids are numbers in its answers and text in ours: 1001 and "1001" agree.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class DaemonSettings(_Section):
    """How ``bridge run`` logs, and when it pauses a failing system."""

    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    metrics_file: str | None = None
    pause_after_failures: int = Field(default=3, ge=1)
    first_pause_seconds: float = Field(default=60, ge=0)
    max_pause_seconds: float = Field(default=1800, ge=0)
    lease_seconds: float = Field(default=120, ge=1)
    """How long a route stays claimed by a replica that stops renewing its lease (died, froze)."""
    http: str | None = None
    """``host:port`` of the HTTP server (/livez, /readyz, /metrics, /status); off if unset."""
    http_user: str | None = None
    http_password: SecretStr | None = None
    """With ``http_user``: basic auth on /status and /status.json (the probes stay open)."""
    time_zone: str = "Asia/Jakarta"
    """The agency's zone: times are shown and deadlines counted in it (WIB, WITA, WIT)."""
    sla_region: str | None = None
    """Regional days of the SLA calendar file that apply here (e.g. "bali")."""
    sla_calendar: str | None = None
    """The versioned SLA override file (SKB revisions, regional days off)."""
    sla_due_soon_days: float = Field(default=1, ge=0)

    @field_validator("http")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or int(port) > 65535:
                raise ValueError(f'{value!r} is not host:port; write e.g. "127.0.0.1:9108"')
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use Asia/Jakarta, Asia/Makassar or Asia/Jayapura"
            ) from None
        return value

    def pause_policy(self) -> PausePolicy:
        return PausePolicy(
            after_failures=self.pause_after_failures,
            first_pause=timedelta(seconds=self.first_pause_seconds),
            max_pause=timedelta(seconds=self.max_pause_seconds),
        )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
        return value.lower()


@dataclass(frozen=True)
class BridgeConfig:
    """The whole validated configuration. Build it with ``load_config``."""

    ledger: LedgerSettings = field(default_factory=LedgerSettings)
    connectors: Mapping[str, ConnectorSettings] = field(default_factory=dict)
    routes: tuple[RouteSettings, ...] = ()
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    path: Path | None = None
    agency: AgencySettings = field(default_factory=AgencySettings)

    @property
    def installation(self) -> str:
        """Who this bridge is (``[ledger] installation``); part of every reference it makes.

        Empty when unset: references then take their older form, which two agencies
        with alike connector names could share (see ``bridge.model.make_ref``).
        """
        return self.ledger.installation or ""

    def connector_settings(self, name: str) -> ConnectorSettings:
        """The settings of connector ``name``, or a ConfigError listing the connectors."""
        try:
            return self.connectors[name]
        except KeyError:
            known = listing(self.connectors)
            raise ConfigError(
                [f"no connector named {name!r}; defined connectors: {known}"], source=self._source
            ) from None

    def route(self, name: str) -> RouteSettings:
        """The route called ``name``, or a ConfigError listing the routes."""
        for route in self.routes:
            if route.name == name:
                return route
        known = listing(route.name for route in self.routes)
        raise ConfigError(
            [f"no route named {name!r}; defined routes: {known}"], source=self._source
        )

    @property
    def _source(self) -> str:
        return "configuration" if self.path is None else str(self.path)


def build_connector(
    config: BridgeConfig, name: str, *, types: ConnectorTypes | None = None
) -> Connector:
    """Instantiate connector ``name`` with its validated settings."""
    settings = config.connector_settings(name)
    cls = connector_class(settings.type) if types is None else types[settings.type]
    return cls(name, settings)
