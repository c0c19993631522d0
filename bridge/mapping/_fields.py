"""One ``[fields]`` entry → a ``FieldRule`` (or the status rule), every mistake reported."""

from __future__ import annotations

from datetime import date, datetime
from operator import attrgetter
from typing import Any

from bridge.mapping._context import Context, quoted
from bridge.mapping._paths import NativePath
from bridge.mapping._schema import (
    ALLOWED_TYPES,
    ATTACHMENT_ITEMS,
    MAPPABLE_KINDS,
    MAPPED_TYPES,
    NATIVE_TYPES,
    Kind,
)
from bridge.mapping._spec import FieldRule, StatusRule
from bridge.mapping._values import (
    AttachmentsCodec,
    BoolCodec,
    Codec,
    DateCodec,
    DateTimeCodec,
    MappedCodec,
    NumberCodec,
    TagsCodec,
    TextCodec,
)
from bridge.model import Status

FIELD_KEYS: tuple[str, ...] = ("path", "read", "write", "type", "map", "label", "label_map")
FIELD_KEYS += ("on_unknown", "fallback", "format", "write_as", "items")
# Which keys make sense for which kind of field; anything else is reported, not ignored.
ONLY_FOR: dict[str, frozenset[Kind]] = {
    "map": MAPPABLE_KINDS,
    "label": frozenset({Kind.STATUS}),
    "label_map": frozenset({Kind.STATUS}),
    "on_unknown": frozenset({Kind.TEXT, Kind.BOOL}),
    "fallback": frozenset({Kind.TEXT}),
    "format": frozenset({Kind.DATE, Kind.DATETIME}),
    "write_as": frozenset({Kind.BOOL}),
    "items": frozenset({Kind.ATTACHMENTS}),
}
ON_UNKNOWN = ("error", "null", "keep")
WRITE_AS = ("int", "bool", "string")


def _spec_table(ctx: Context, where: str, kind: Kind, spec: Any) -> dict[str, Any] | None:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        ctx.problem(where, 'must be a native path or a table such as { read = "a", write = "b" }')
        return None
    ctx.unknown_keys(where, spec, FIELD_KEYS)
    for key, kinds in ONLY_FOR.items():
        if key in spec and kind not in kinds:
            ctx.problem(where, f"{key} does not apply to a {kind} field; remove it")
    return spec


def _paths(
    ctx: Context, where: str, spec: dict[str, Any]
) -> tuple[NativePath | None, NativePath | None]:
    found: list[NativePath | None] = []
    for key in ("read", "write"):
        value = spec.get(key, spec.get("path"))
        if value is True:
            ctx.problem(where, f"{key} = true is not a path; name the native path or use false")
        found.append(
            None
            if value in (None, False, True)
            else ctx.path(where, key, value, write=key == "write")
        )
    if not any(key in spec for key in ("path", "read", "write")):
        ctx.problem(where, 'has no path; add path = "<native path>" (or read/write)')
    return found[0], found[1]


def _native_type(ctx: Context, where: str, name: str, kind: Kind, spec: dict[str, Any]) -> str:
    allowed = MAPPED_TYPES if "map" in spec else ALLOWED_TYPES[kind]
    native = spec.get("type", allowed[0])
    if native not in NATIVE_TYPES:
        ctx.problem(where, f"type {native!r} is unknown; use one of: {', '.join(NATIVE_TYPES)}")
        return allowed[0]
    if native not in allowed:
        ctx.problem(
            where,
            f"type {native!r} does not fit {kind} field {name!r}; use one of: {', '.join(allowed)}",
        )
        return allowed[0]
    return str(native)


def compile_field(ctx: Context, section: str, name: str, kind: Kind, spec: Any) -> FieldRule | None:
    """The rule for a non-status field, or None (with problems recorded) when it is wrong."""
    where = f"[{section}.{quoted(name)}]"
    table = _spec_table(ctx, where, kind, spec)
    if table is None:
        return None
    read, write = _paths(ctx, where, table)
    native = _native_type(ctx, where, name, kind, table)
    codec = _codec(ctx, where, name, kind, native, table)
    if codec is None:
        return None
    return FieldRule(name, kind, read, write, codec, attrgetter(name))


def _codec(
    ctx: Context, where: str, name: str, kind: Kind, native: str, spec: dict[str, Any]
) -> Codec | None:
    if "map" in spec:
        return _mapped(ctx, where, name, kind, native, spec)
    if "on_unknown" in spec:
        ctx.problem(where, "on_unknown only applies with map = ...; remove it")
    fmt = _format(ctx, where, spec)
    if kind is Kind.TEXT:
        return TextCodec(native)
    if kind is Kind.NUMBER:
        return NumberCodec(native)
    if kind is Kind.BOOL:
        return BoolCodec(_choice(ctx, where, spec, "write_as", WRITE_AS))
    if kind is Kind.DATE:
        return DateCodec(_read_formats(ctx, fmt), fmt or "%Y-%m-%d")
    if kind is Kind.DATETIME:
        write_format = fmt or (ctx.formats[0] if ctx.formats else None)
        return DateTimeCodec(ctx.zone, _read_formats(ctx, fmt), write_format)
    if kind is Kind.TAGS:
        return TagsCodec(native)
    return _attachments(ctx, where, spec)


def _mapped(
    ctx: Context, where: str, name: str, kind: Kind, native: str, spec: dict[str, Any]
) -> Codec | None:
    values = ctx.map_values(where, "map", spec["map"], kind, name, native)
    on_unknown = _choice(ctx, where, spec, "on_unknown", ON_UNKNOWN)
    if on_unknown == "keep" and kind is not Kind.TEXT:
        ctx.problem(where, 'on_unknown = "keep" only fits text fields; use "error" or "null"')
    if "write_as" in spec:
        ctx.problem(where, "write_as does not apply with map = ...; the map's codes are written")
    fallback = _fallback(ctx, where, spec, values)
    if values is None:
        return None
    return MappedCodec(spec["map"], values, native, on_unknown, fallback=fallback)


def _fallback(
    ctx: Context, where: str, spec: dict[str, Any], values: dict[str, Any] | None
) -> str | None:
    """``fallback``: the canonical value an unmapped code stands for, both ways.

    It must be one of the table's values, so that it has a native code to be written as.
    """
    fallback = spec.get("fallback")
    if fallback is None:
        return None
    if "on_unknown" in spec:
        ctx.problem(where, "fallback replaces on_unknown; keep one of them")
    if values is not None and fallback not in values.values():
        listed = ", ".join(sorted({str(v) for v in values.values()}))
        ctx.problem(
            where, f"fallback {fallback!r} is not a value of [values.{spec['map']}]: {listed}"
        )
        return None
    return str(fallback)


def _choice(
    ctx: Context, where: str, spec: dict[str, Any], key: str, options: tuple[str, ...]
) -> str:
    value = spec.get(key, options[0])
    if value not in options:
        ctx.problem(where, f"{key} {value!r} is unknown; use one of: {', '.join(options)}")
        return options[0]
    return str(value)


def _format(ctx: Context, where: str, spec: dict[str, Any]) -> str | None:
    fmt = spec.get("format")
    if fmt is not None and not (isinstance(fmt, str) and "%" in fmt):
        ctx.problem(where, f'format {fmt!r} is not a strptime format; write it like "%d/%m/%Y"')
        return None
    return fmt


def _read_formats(ctx: Context, fmt: str | None) -> tuple[str, ...]:
    return ctx.formats if fmt is None else (fmt, *(f for f in ctx.formats if f != fmt))


def _attachments(ctx: Context, where: str, spec: dict[str, Any]) -> Codec | None:
    items = spec.get("items")
    if not isinstance(items, dict) or not items:
        ctx.problem(where, 'needs items = { filename = "<native key>", url = "<native key>" }')
        return None
    ctx.unknown_keys(f"{where} items", items, ATTACHMENT_ITEMS)
    paths = {
        k: ctx.path(f"{where} items", k, v, write=True)
        for k, v in items.items()
        if k in ATTACHMENT_ITEMS
    }
    if any(path is None for path in paths.values()):
        return None
    return AttachmentsCodec({k: p for k, p in paths.items() if p is not None})


def compile_status(
    ctx: Context, section: str, spec: Any
) -> tuple[StatusRule | None, FieldRule | None]:
    """The status field: a code path (and label path) read through value maps; unknown → None."""
    where = f"[{section}.status]"
    table = _spec_table(ctx, where, Kind.STATUS, spec)
    if table is None:
        return None, None
    read, write = _paths(ctx, where, table)
    label = ctx.path(where, "label", table["label"]) if "label" in table else None
    native = _native_type(ctx, where, "status", Kind.STATUS, table)
    codes = _status_map(ctx, where, "map", table, native)
    labels = _status_map(ctx, where, "label_map", table, "string")
    if not codes and not labels:
        ctx.problem(where, 'needs map = "<[values] table of codes>" (and/or label_map for labels)')
    if write is not None and not codes:
        ctx.problem(where, "writing the status needs map = ... to find the native code")
    rule = StatusRule(read, label, codes, {k.strip().casefold(): v for k, v in labels.items()})
    codec = MappedCodec(str(table.get("map")), codes, native, "null")
    writer = FieldRule("status", Kind.STATUS, None, write, codec, attrgetter("status"))
    return rule, (writer if write is not None else None)


def _status_map(
    ctx: Context, where: str, key: str, spec: dict[str, Any], native: str
) -> dict[str, Status]:
    if key not in spec:
        return {}
    values = ctx.map_values(where, key, spec[key], Kind.STATUS, "status", native)
    return {code: Status(v) for code, v in (values or {}).items() if v in tuple(Status)}


def canonical_default(ctx: Context, kind: Kind, value: Any) -> Any:
    """A [defaults] value as the canonical field holds it; ValueError when it does not fit."""
    if kind is Kind.TEXT and isinstance(value, str):
        return value
    if kind is Kind.NUMBER and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is Kind.BOOL and isinstance(value, bool):
        return value
    if kind is Kind.STATUS and value in tuple(Status):
        return Status(value)
    if kind is Kind.TAGS and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if kind is Kind.DATE and isinstance(value, date | str) and not isinstance(value, datetime):
        return DateCodec((), "%Y-%m-%d").decode(value)
    if kind is Kind.DATETIME and isinstance(value, datetime | str):
        return DateTimeCodec(ctx.zone, (), None).decode(value)
    raise ValueError(f"does not fit a field of kind '{kind}'")
