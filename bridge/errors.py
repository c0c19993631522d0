"""Every error the bridge raises, grouped by what to do about it.

The engine decides by base class, never by message::

    BridgeError
    ├── ConfigError            the configuration or a mapping file is wrong: fix it, start again
    │   └── MappingError       a mapping file is invalid (every problem listed at once)
    ├── RecordError            this one record cannot go through: set it aside, go on with the rest
    │   ├── RecordInvalid      a source record is missing fields or has values we cannot read
    │   ├── RemoteRejected     the target refused the record (a 4xx validation answer)
    │   └── AttachmentUnavailable  one of its files cannot be fetched (refused URL,
    │                          4xx/5xx, dead host, too large); ``transient``: may a later try work
    ├── RetryableError         a transient failure: try again later, nothing is lost
    │   ├── RateLimited        HTTP 429; carries the server's Retry-After
    │   └── ShuttingDown       the bridge was told to stop (SIGTERM) while a request ran
    └── RouteError             this route cannot go on this cycle: stop it, keep the cursor
        ├── AuthError          credentials refused
        ├── AccessDenied       logged in, but a privilege is missing (a database GRANT)
        ├── SchemaMismatch     a table or column the configuration relies on is not there
        ├── ProtocolError      the remote answered in a shape we do not understand
        ├── ReadRefused        a listing, detail read or search was refused (a 4xx answer)
        └── SourceEmpty        a source that had records suddenly lists none

Every error raised by a connector's contract method carries ``system``: the configured
name of that connector (set by ``bridge.connector``, never by the connector's own code),
so the engine knows which system to hold back without guessing.

Messages never carry secrets or personal data: they are logged and shown as-is.
"""

from __future__ import annotations

from collections.abc import Iterable


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    system: str | None = None
    """The configured connector whose method raised it; None: the bridge's own."""


def blame(error: BaseException, system: str) -> None:
    """Mark ``error`` as raised by connector ``system``, unless one already claimed it.

    The innermost connector wins: a target's create that fails in the source's
    download is the source's failure. Errors that are not a BridgeError (a connector's
    bug) get the same attribute, so they are blamed alike.
    """
    if getattr(error, "system", None) is None:
        error.system = system  # type: ignore[attr-defined]  # on any exception, see above


def system_of(error: BaseException) -> str | None:
    """The connector ``error`` is blamed on (see ``blame``), or None."""
    system = getattr(error, "system", None)
    return system if isinstance(system, str) else None


class ConfigError(BridgeError):
    """The configuration is wrong. ``problems`` lists every problem found, each with its fix."""

    def __init__(self, problems: Iterable[str], *, source: str = "configuration") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{lines}")


class MappingError(ConfigError):
    """A mapping file is invalid."""


class RecordError(BridgeError):
    """One record cannot be processed; it is set aside (quarantined) with this reason."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        self.reason = reason
        self.field = field
        super().__init__(reason if field is None else f"{field}: {reason}")


class RecordInvalid(RecordError):
    """A native record is missing required fields or carries values we cannot read."""


class RemoteRejected(RecordError):
    """The target system refused the record (for example a 422 validation answer)."""

    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(reason)


class AttachmentUnavailable(RecordError):
    """An attachment of the record cannot be fetched; the record is set aside with the reason.

    ``transient`` is True when a later try may work (a 5xx, a dead host, a timeout) and
    False when it cannot until someone acts (a refused URL, a 404, a file too large).
    """

    def __init__(self, reason: str, *, transient: bool) -> None:
        self.transient = transient
        super().__init__(reason, field="attachments")


class RetryableError(BridgeError):
    """A transient failure (network, timeout, 5xx). Nothing was decided; try again later."""


class RateLimited(RetryableError):
    """The remote asked us to slow down (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ShuttingDown(RetryableError):
    """The bridge is stopping (SIGTERM/SIGINT): the request was abandoned, nothing is decided."""


class RouteError(BridgeError):
    """The route cannot continue this cycle. The cursor stays where it was."""


class AuthError(RouteError):
    """The remote refused our credentials. Check the secrets named in the message."""


class AccessDenied(RouteError):
    """The remote accepted our login but refuses this operation (a database user without
    the INSERT or UPDATE grant). Retrying will not help: grant it, or turn the write off."""


class SchemaMismatch(RouteError):
    """A table or column the configuration names, or a value the remote requires, is not
    there. Retrying will not help: each problem names the mapping key or column to fix."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class ProtocolError(RouteError):
    """The remote answered in a shape we do not understand (wrong envelope, missing id)."""


class ReadRefused(RouteError):
    """A listing, a detail read or a search was refused (a 4xx answer other than 401/403).

    Unlike ``RemoteRejected``, which refuses one record's write, a refused read says
    nothing about any one record: the URL or the query is wrong, so the route stops
    and the message names the configuration keys to check.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class SourceEmpty(RouteError):
    """A source that previously held records suddenly lists none.

    Taken as a failure, never as "nothing there" (TRAPS.md: a failed read taken
    for no data wiped a destination).
    """
