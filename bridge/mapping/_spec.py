"""A compiled mapping, ready to apply: field rules with paths and codecs, nothing to re-parse."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.errors import RecordInvalid
from bridge.mapping._paths import NativePath
from bridge.mapping._schema import Kind
from bridge.mapping._values import Codec, native_key
from bridge.model import Status


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One canonical field and the native paths it is read from and written to."""

    name: str
    kind: Kind
    read: NativePath | None
    write: NativePath | None
    codec: Codec
    getter: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class StatusRule:
    """Reads a native status code (and label) into ``Status``; unknown values give None."""

    read: NativePath | None
    label: NativePath | None
    codes: Mapping[str, Status]
    labels: Mapping[str, Status]

    def status(self, code: str | None, label: str | None) -> Status | None:
        # Labels come first: they are the confirmed vocabulary, numeric codes are often guessed.
        if label is not None and (found := self.labels.get(label.strip().casefold())):
            return found
        return self.codes.get(code) if code is not None else None


def _missing(value: Any) -> bool:
    return value is None or value == () or (isinstance(value, str) and not value.strip())


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """The rules for one kind of native record (a complaint or a follow-up)."""

    id_path: NativePath
    reads: tuple[FieldRule, ...]
    writes: tuple[FieldRule, ...]
    required: frozenset[str]
    defaults: Mapping[str, Any]
    constants: tuple[tuple[NativePath, Any], ...]
    unread_defaults: tuple[tuple[str, Any], ...]

    def native_id(self, record: Any) -> str:
        raw = self.id_path.get(record) if isinstance(record, dict) else None
        if isinstance(raw, bool) or not isinstance(raw, str | int) or _missing(raw):
            raise RecordInvalid(f"no id at native path '{self.id_path.text}'", field="source_id")
        try:
            return native_key(raw)
        except ValueError:
            # An int of thousands of digits cannot even be printed: no id, and no crash.
            raise RecordInvalid(
                f"the id at native path '{self.id_path.text}' is too long", field="source_id"
            ) from None

    def read(self, record: dict[str, Any]) -> dict[str, Any]:
        """Flat canonical values (``"reporter.name": ...``), defaults applied, required checked."""
        values: dict[str, Any] = {}
        for rule in self.reads:
            raw = rule.read.get(record) if rule.read is not None else None
            value = None if raw is None or raw == "" else self._decode(rule, raw)
            # A code mapped to "null" counts as no value, so the default applies to it too.
            values[rule.name] = self.defaults.get(rule.name) if value is None else value
        values.update(self.unread_defaults)
        for name in self.required:
            if _missing(values.get(name)):
                raise RecordInvalid("required field is missing or empty", field=name)
        return values

    def write(self, obj: Any, rules: tuple[FieldRule, ...] | None = None) -> dict[str, Any]:
        """The native payload for ``obj``: constants, then every field with a write path
        (only ``rules``, when given: a part of the payload, with the same errors for them)."""
        out: dict[str, Any] = {}
        for path, constant in self.constants:
            path.set(out, copy_value(constant))
        for rule in self.writes if rules is None else rules:
            value = rule.getter(obj)
            if _missing(value):
                value = self.defaults.get(rule.name)
            native = None if _missing(value) else self._encode(rule, value)
            if native is not None:
                assert rule.write is not None  # writes only hold rules with a write path
                rule.write.set(out, native)
            elif rule.name in self.required:
                raise RecordInvalid("required field has no native value to write", field=rule.name)
        return out

    @staticmethod
    def _decode(rule: FieldRule, raw: Any) -> Any:
        try:
            return rule.codec.decode(raw)
        except ValueError as exc:
            where = rule.read.text if rule.read is not None else "?"
            raise RecordInvalid(f"{exc} (native '{where}')", field=rule.name) from None

    @staticmethod
    def _encode(rule: FieldRule, value: Any) -> Any:
        try:
            return rule.codec.encode(value)
        except ValueError as exc:
            raise RecordInvalid(str(exc), field=rule.name) from None


def _named(rule: FieldRule, fields: tuple[str, ...]) -> bool:
    return any(rule.name == f or rule.name.startswith(f"{f}.") for f in fields)


def rules_under(
    writes: tuple[FieldRule, ...], fields: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[FieldRule, ...]]:
    """The top-level native keys that ``fields`` are written under, and every write rule
    under those keys (a key may also hold other fields, nested beside them)."""
    keys = tuple(dict.fromkeys(r.write.keys[0] for r in writes if r.write and _named(r, fields)))
    return keys, tuple(r for r in writes if r.write is not None and r.write.keys[0] in keys)


def copy_value(value: Any) -> Any:
    """Constants may be tables or arrays; every payload gets its own copy."""
    if isinstance(value, dict):
        return {key: copy_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_value(item) for item in value]
    return value


def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"reporter.name": x}`` → ``{"reporter": {"name": x}}``; None keeps the model default."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        group, dot, attr = name.partition(".")
        if dot:
            out.setdefault(group, {})[attr] = value
        else:
            out[name] = value
    return out
