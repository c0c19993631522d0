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

A connector type declares its settings model once, as the class's type argument
(``class LaporConnector(HttpConnector[LaporSettings])``); ``Connector.__init__``
validates the settings against it, then asks ``problems`` for what the model alone
cannot check, so every connector is built the same way.

Every error a connector's contract method raises leaves it carrying the connector's
configured name (``BridgeError.system``, see ``blamed``): the engine reads whom to
hold back from the error itself. Subclasses get this for every contract method they
define; they cannot forget it.

Third-party packages add connector types through the ``bridge.connectors`` entry
point group; the entry's name is the ``type`` used in the configuration.
"""

from __future__ import annotations

import builtins
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any, ClassVar, Generic, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, SecretStr
from typing_extensions import TypeVar

from bridge.errors import ConfigError, RecordError, blame
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


SettingsT = TypeVar("SettingsT", bound=ConnectorSettings, default=ConnectorSettings)

CONTRACT_METHODS = (
    "pull",
    "get",
    "create",
    "find_by_ref",
    "followups",
    "add_followup",
    "set_status",
    "forward",
    "download",
    "close",
)
"""The methods the engine calls; an error out of any of them names the connector."""


class Connector(ABC, Generic[SettingsT]):
    """One configured system. Subclass it as ``Connector[MySettings]``, declare ``type``,
    implement the I/O."""

    type: ClassVar[str]
    Settings: ClassVar[builtins.type[ConnectorSettings]] = ConnectorSettings
    """The settings model: the class's type argument (or, for older code, assigned)."""

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
    max_concurrency: int = 1
    """How many of its creates (and detail reads) the engine may have in flight at once;
    more than 1 only where the connector is safe to call from several threads."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            declared = next(iter(get_args(base)), None)
            if isinstance(declared, type) and issubclass(declared, ConnectorSettings):
                cls.Settings = declared
        for method in CONTRACT_METHODS:
            if method in cls.__dict__:
                setattr(cls, method, blamed(cls.__dict__[method], lazy=method == "pull"))

    def __init__(self, name: str, settings: ConnectorSettings) -> None:
        self.name = name
        model = type(self).Settings
        # Validated once, here: the config loader hands over the type's own model;
        # anything else (a test's base settings, a tool's) is checked against it.
        valid = (
            settings if isinstance(settings, model) else model.model_validate(settings.model_dump())
        )
        self.options: SettingsT = cast(SettingsT, valid)
        self.settings: ConnectorSettings = valid
        found = self.problems()
        if found:
            raise ConfigError(found)
        self.configure()

    def problems(self) -> list[str]:
        """What the settings model alone cannot check (keys that only work together),
        each with its key path and fix; reported at once as a ConfigError."""
        return []

    def configure(self) -> None:
        """Set per-instance capabilities from the validated settings; nothing by default."""

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

    def notices(self) -> list[str]:
        """What a person should know about this connector's set-up, as it stands now (an
        extension the server lacks, a clock hours ahead): one sentence each, with the fix,
        never a record's content. Kept per system in the ledger after every cycle (until
        no longer said for a while, ``bridge.ledger.notices``) and shown by ``bridge
        status``, ``bridge doctor`` and the status page."""
        return []

    def close(self) -> None:
        """Release connections. Called once when the bridge stops."""

    def __enter__(self) -> Connector[SettingsT]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def blamed(method: Callable[..., Any], *, lazy: bool = False) -> Callable[..., Any]:
    """``method`` of a connector, leaving its failures blamed on that connector.

    ``lazy`` (``pull``) methods hand out pages as the caller iterates, so their errors
    come then: they are wrapped as a generator. A connector's own bug (not a BridgeError) is
    blamed too, so a connector that keeps failing is paused whatever the cause.
    """
    if lazy:

        @functools.wraps(method)
        def pages(self: Connector, *args: Any, **kwargs: Any) -> Iterator[list[NativeRecord]]:
            try:
                yield from method(self, *args, **kwargs)
            except Exception as error:
                blame(error, self.name)
                raise

        return pages

    @functools.wraps(method)
    def call(self: Connector, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as error:
            blame(error, self.name)
            raise

    return call


for _method in CONTRACT_METHODS:
    if _method in Connector.__dict__:  # the defaults' own refusals name the connector too
        setattr(Connector, _method, blamed(Connector.__dict__[_method], lazy=_method == "pull"))


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
