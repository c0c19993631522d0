"""The connector contract and the registry of connector types.

A connector speaks a *transport* (the LAPOR! API, a generic REST API, a SQL table…)
and moves *native records*: plain JSON-like dicts in the remote system's own schema.
It knows nothing of the canonical complaint; a mapping file (``bridge.mapping``)
turns native records into ``Complaint`` objects and back.

Capabilities are class or instance attributes, checked once by the engine, never
re-checked inside connectors:

- ``can_create``: the engine may create records here;
- ``change_feed``: ``"cursor"`` when ``pull(since=...)`` filters by update time,
  ``"scan"`` when every pull lists everything and changes are found by comparing
  content hashes;
- ``can_find_by_ref``: ``find_by_ref`` can locate a record by the bridge's reference,
  which makes a create safe to resume after a crash or a lost response;
- ``receives_confidential``: *rahasia* complaints may be copied here (from config).

Third-party packages add connector types through the ``bridge.connectors`` entry
point group; the entry's name is the ``type`` used in the configuration.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from bridge.errors import ConfigError, RecordError
from bridge.model import Attachment
from bridge.privacy import register_secret

NativeRecord = dict[str, Any]
ChangeFeed = Literal["cursor", "scan"]

ENTRY_POINT_GROUP = "bridge.connectors"


class ConnectorSettings(BaseModel):
    """Settings every connector accepts. Connector types subclass this with their own keys.

    Unknown keys are errors. Secrets are typed ``SecretStr`` so they never print.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    mapping: str | None = None
    receives_confidential: bool = False

    def model_post_init(self, context: Any, /) -> None:
        # However the settings were built (the config loader, a test, a third-party
        # tool), their secrets are masked in every log line and error text from now on.
        for value in self.__dict__.values():
            if isinstance(value, SecretStr):
                register_secret(value.get_secret_value())


class Connector(ABC):
    """One configured system. Subclass it, declare ``type`` and ``Settings``, implement the I/O."""

    type: ClassVar[str]
    Settings: ClassVar[builtins.type[ConnectorSettings]] = ConnectorSettings

    # Capabilities: class-level defaults that a connector may set per instance
    # from its settings (a REST door with a `since_param` has a cursor feed).
    can_create: bool = True
    change_feed: ChangeFeed = "scan"
    can_find_by_ref: bool = False
    supports_followups: bool = False
    """``followups`` and ``add_followup`` work here."""
    can_add_followups: bool = True
    """With ``supports_followups``: False when follow-ups are read here but never written
    (a read-only door); the engine then copies none to it and says so, once."""
    can_write_status: bool = False
    """``set_status`` works here."""
    can_forward: bool = False
    """``forward`` works here (LAPOR!'s *Bukan Wewenang*)."""

    def __init__(self, name: str, settings: ConnectorSettings) -> None:
        self.name = name
        self.settings = settings

    @property
    def receives_confidential(self) -> bool:
        return self.settings.receives_confidential

    @abstractmethod
    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        """Yield pages of native records, oldest change first where the transport allows.

        ``since`` is only honoured by ``change_feed == "cursor"`` connectors (records
        updated at or after it); scan connectors list everything. A failed read raises
        (``RetryableError``, ``RouteError``); it never yields an empty page instead.
        """

    @abstractmethod
    def get(self, record_id: str) -> NativeRecord | None:
        """Fetch one native record by its id in this system, or None if it does not exist."""

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        """Create ``record`` (with its files) here and return the new record's id.

        ``ref`` is the bridge's reference: connectors that can, store it in the
        record so that ``find_by_ref`` finds it again.
        Raises ``RemoteRejected`` when the system refuses the record for good.
        """
        raise NotImplementedError(f"connector type {self.type!r} cannot create records")

    def find_by_ref(self, ref: str) -> str | None:
        """The id of the record this bridge created with ``ref``, or None if there is none."""
        raise NotImplementedError(f"connector type {self.type!r} cannot search by reference")

    def followups(self, record_id: str) -> list[NativeRecord]:
        """Every follow-up (*tindak lanjut*, *tanggapan*) of one record, oldest first.

        A failed read raises; it never returns an empty list instead.
        """
        raise NotImplementedError(f"connector type {self.type!r} has no follow-ups")

    def add_followup(
        self, record_id: str, followup: NativeRecord, attachments: Sequence[Attachment]
    ) -> str | None:
        """Post a follow-up on ``record_id``; return its id here when the system tells it."""
        raise NotImplementedError(f"connector type {self.type!r} cannot post follow-ups")

    def set_status(self, record_id: str, fields: NativeRecord) -> None:
        """Write a status change: ``fields`` are native status fields from the mapping."""
        raise NotImplementedError(f"connector type {self.type!r} cannot write statuses")

    def forward(self, record_id: str, institution_id: str, reason: str) -> None:
        """Hand the complaint to another institution (LAPOR! *Bukan Wewenang*, endpoint #3)."""
        raise NotImplementedError(f"connector type {self.type!r} cannot forward complaints")

    def download(self, attachment: Attachment) -> bytes:
        """The bytes of an attachment this system serves (with this system's credentials).

        The default covers attachments that already carry their bytes; HTTP
        connectors override it to fetch ``attachment.url``.
        """
        if attachment.content is None:
            raise RecordError(
                f"attachment {attachment.filename!r} has no content and connector type "
                f"{self.type!r} cannot download it",
                field="attachments",
            )
        return attachment.content

    def close(self) -> None:  # noqa: B027 - optional hook, most connectors hold nothing
        """Release connections. Called once when the bridge stops."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def registered_types() -> list[str]:
    """The names of every connector type installed: built-ins and third-party packages alike.

    The built-ins are registered through the same entry point group as everyone
    else's, so the engine never imports a concrete connector.
    """
    return sorted({entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)})


def connector_class(type_name: str) -> builtins.type[Connector]:
    """The class for ``type_name``, or a ConfigError listing the types that exist.

    Only the named entry point is imported, so one broken third-party package
    cannot stop a bridge that does not use it.
    """
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=type_name):
        try:
            loaded = entry.load()
        except Exception as exc:
            raise ConfigError(
                [
                    f"connector type {type_name!r} is registered by {entry.value!r} but "
                    f"cannot be imported ({type(exc).__name__}: {exc}); reinstall the "
                    f"package that provides it"
                ]
            ) from exc
        if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
            raise ConfigError(
                [f"entry point {entry.value!r} for type {type_name!r} is not a Connector class"]
            )
        return loaded
    known = ", ".join(registered_types())
    raise ConfigError(
        [
            f"unknown connector type {type_name!r}; known types: {known}. "
            f"A third-party type must be installed and registered under the "
            f"{ENTRY_POINT_GROUP!r} entry point group."
        ]
    )
