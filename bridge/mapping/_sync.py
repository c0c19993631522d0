"""The sections two-way sync needs: [owns], [status_write], [transport] and ``natural_key``.

Each ``compile_*`` function reports every problem on the shared ``Context`` and returns
what it could build, so one bad section never hides the problems of another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from difflib import get_close_matches
from types import MappingProxyType
from typing import Any

from bridge.errors import RecordInvalid
from bridge.mapping._agency import UNRESOLVED
from bridge.mapping._context import Context
from bridge.mapping._paths import NativePath, overlapping
from bridge.mapping._schema import COMPLAINT_FIELDS, Kind
from bridge.mapping._spec import StatusRule, copy_value
from bridge.mapping._values import is_int_text
from bridge.model import Status

Constants = tuple[tuple[NativePath, Any], ...]

OWNS_KEYS = ("statuses", "fields")
STATUS_WRITE_KEYS = ("path", "type", "constants")
STATUS_TYPES = ("int", "string")
FOLLOWUPS = "followups"  # not a [fields] name, but ownable: who wins when both sides edited them
# A natural key is compared as text: lists of tags or files do not identify a complaint.
KEY_KINDS = frozenset(Kind) - {Kind.TAGS, Kind.ATTACHMENTS}


@dataclass(frozen=True, slots=True)
class StatusWriter:
    """Builds the native payload of a status change from the status value map, reversed."""

    path: NativePath
    codes: Mapping[Status, Any]
    constants: Constants

    def write(self, status: Status) -> dict[str, Any]:
        code = self.codes.get(status)
        if code is None:
            takes = ", ".join(self.codes) or "none"
            raise RecordInvalid(
                f"status {status.value!r} has no native code here; this system takes: {takes}",
                field="status",
            )
        out: dict[str, Any] = {}
        for path, constant in self.constants:
            path.set(out, copy_value(constant))
        self.path.set(out, code)
        return out


@dataclass(frozen=True, slots=True)
class SyncSections:
    """What one file says about two-way sync, compiled."""

    owned_statuses: frozenset[Status]
    owned_fields: frozenset[str]
    status_writer: StatusWriter | None
    natural_key: tuple[str, ...]
    transport: Mapping[str, Any]


def compile_sync(
    ctx: Context,
    doc: dict[str, Any],
    head: dict[str, Any],
    status: StatusRule | None,
    readable: set[str],
) -> SyncSections:
    """[owns], [status_write], [transport] and ``natural_key``; ``readable``: fields read here."""
    owned_statuses, owned_fields = compile_owns(ctx, doc)
    return SyncSections(
        owned_statuses=owned_statuses,
        owned_fields=owned_fields,
        status_writer=compile_status_write(ctx, doc, status),
        natural_key=compile_natural_key(ctx, head.get("natural_key"), readable),
        # Opaque to the mapping layer: the connector that reads it validates it.
        transport=frozen(ctx.table(doc, "transport", "[transport]")),
    )


def _names(ctx: Context, where: str, key: str, value: object, example: str) -> list[str]:
    """A list of strings, or [] with a problem reported."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        ctx.problem(where, f"{key} must be a list of names, e.g. {key} = {example}")
        return []
    return list(dict.fromkeys(value))


def _unknown_name(ctx: Context, where: str, name: str, known: list[str], what: str) -> None:
    close = get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    ctx.problem(where, f"{name!r} is not {what}; {hint}use one of: {', '.join(known)}")


def compile_owns(ctx: Context, doc: dict[str, Any]) -> tuple[frozenset[Status], frozenset[str]]:
    """[owns]: the statuses whose transitions, and the fields whose edits, this system owns."""
    table = ctx.table(doc, "owns", "[owns]")
    ctx.unknown_keys("[owns]", table, OWNS_KEYS)
    statuses = _names(ctx, "[owns]", "statuses", table.get("statuses"), '["verified", "closed"]')
    fields = _names(ctx, "[owns]", "fields", table.get("fields"), '["institution_id"]')
    for name in statuses:
        if name not in tuple(Status):
            _unknown_name(ctx, "[owns] statuses", name, [s.value for s in Status], "a status")
    ownable = [*COMPLAINT_FIELDS, FOLLOWUPS]
    for name in fields:
        if name == "status":
            ctx.problem("[owns] fields", "'status' is owned per status; list them in statuses")
        elif name not in ownable:
            _unknown_name(ctx, "[owns] fields", name, ownable, "a canonical field")
    owned = frozenset(Status(s) for s in statuses if s in tuple(Status))
    return owned, frozenset(f for f in fields if f in ownable and f != "status")


def compile_natural_key(ctx: Context, value: object, readable: set[str]) -> tuple[str, ...]:
    """``natural_key`` in [mapping]: canonical fields this system reads, compared as text."""
    where = "[mapping] natural_key"
    names = _names(ctx, "[mapping]", "natural_key", value, '["title", "content"]')
    keyable = [name for name, kind in COMPLAINT_FIELDS.items() if kind in KEY_KINDS]
    for name in names:
        if name not in keyable:
            _unknown_name(ctx, where, name, keyable, "a canonical field a key can compare")
        elif name not in readable:
            ctx.problem(
                where, f"{name!r} is not read by this mapping; add it to [fields] or remove it"
            )
    return tuple(name for name in names if name in keyable and name in readable)


def compile_status_write(
    ctx: Context, doc: dict[str, Any], status: StatusRule | None
) -> StatusWriter | None:
    """[status_write]: where a status change's code goes, typed like the status map's codes."""
    if "status_write" not in doc:
        return None
    where = "[status_write]"
    table = ctx.table(doc, "status_write", where)
    ctx.unknown_keys(where, table, STATUS_WRITE_KEYS)
    if "path" not in table:
        ctx.problem(where, 'path is missing; name the native status key, e.g. path = "status"')
    path = ctx.path(where, "path", table["path"], write=True) if "path" in table else None
    inner = "[status_write.constants]"
    constants = native_constants(ctx, inner, ctx.table(table, "constants", inner))
    for constant, _ in constants:
        if path is not None and overlapping(path, constant):
            ctx.problem(inner, f"{constant.text!r} is also the status path; keep one")
    if status is None or not status.codes:
        ctx.problem(
            where, "needs a status field with map = ... in [fields]: its codes are what is written"
        )
        return None
    codes = _typed_codes(ctx, table.get("type"), status.codes)
    if path is None or codes is None:
        return None
    return StatusWriter(path, MappingProxyType(codes), constants)


def _typed_codes(
    ctx: Context, declared: object, codes: Mapping[str, Status]
) -> dict[Status, Any] | None:
    """Status → native code (the first listed wins), as int or text."""
    all_ints = all(is_int_text(code) for code in codes)
    kind = declared if declared is not None else ("int" if all_ints else "string")
    if kind not in STATUS_TYPES:
        ctx.problem("[status_write]", f"type {kind!r} is unknown; use one of: int, string")
        return None
    if kind == "int" and not all_ints:
        ctx.problem("[status_write]", 'type "int" needs integer status codes; use type = "string"')
        return None
    reverse: dict[Status, Any] = {}
    for code, value in codes.items():
        reverse.setdefault(value, int(code) if kind == "int" else code)
    return reverse


def native_constants(ctx: Context, where: str, table: dict[str, Any]) -> Constants:
    """A table of native values written into every payload of one kind."""
    constants: list[tuple[NativePath, Any]] = []
    for key, value in table.items():
        if isinstance(value, date | time):
            ctx.problem(
                where, f"{key} is a TOML date/time; write it as a string in the native format"
            )
        elif (path := ctx.path(where, "key", key, write=True)) is not None:
            value = ctx.agency_value(where, key, value)
            if value is not UNRESOLVED:
                constants.append((path, value))
    return tuple(constants)


def frozen(value: Any) -> Any:
    """A TOML value made read-only all the way down: tables → mapping proxies, arrays → tuples."""
    if isinstance(value, dict):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(frozen(item) for item in value)
    return value
