"""A compiled mapping, ready to apply: field rules with paths and codecs, nothing to re-parse."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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


# One compiled read: canonical name, reader, decoder, default, native path text (for errors).
ReadStep = tuple[str, Callable[[dict[str, Any]], Any], Callable[[Any], Any], Any, str]
# One compiled write: the rule, its getter and encoder, the top-level key it is written
# under when its path has one step (else None: the path sets it), the default (None when
# it is missing) and whether the field is required.
WriteStep = tuple[FieldRule, Callable[[Any], Any], Callable[[Any], Any], str | None, Any, bool]


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """The rules for one kind of native record (a complaint or a follow-up).

    ``read`` and ``write`` run steps compiled once from the rules (``read_steps``,
    ``write_steps``): per record, nothing about the mapping is decided again.
    """

    id_path: NativePath
    reads: tuple[FieldRule, ...]
    writes: tuple[FieldRule, ...]
    required: frozenset[str]
    defaults: Mapping[str, Any]
    constants: tuple[tuple[NativePath, Any], ...]
    unread_defaults: tuple[tuple[str, Any], ...]
    _reading: tuple[ReadStep, ...] = field(init=False)
    _writing: tuple[WriteStep, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_reading", self.read_steps())
        object.__setattr__(self, "_writing", self.write_steps(self.writes))

    def read_steps(self) -> tuple[ReadStep, ...]:
        steps = []
        for rule in self.reads:
            assert rule.read is not None  # reads only hold rules with a read path
            default = self.defaults.get(rule.name)
            steps.append(
                (rule.name, rule.read.dict_reader, rule.codec.decode, default, rule.read.text)
            )
        return tuple(steps)

    def write_steps(self, rules: tuple[FieldRule, ...]) -> tuple[WriteStep, ...]:
        """``rules`` (write rules of this spec) compiled for ``write``."""
        steps = []
        for rule in rules:
            assert rule.write is not None  # writes only hold rules with a write path
            default = self.defaults.get(rule.name)
            key = rule.write.keys[0] if len(rule.write.keys) == 1 else None
            steps.append(
                (
                    rule,
                    rule.getter,
                    rule.codec.encode,
                    key,
                    None if _missing(default) else default,
                    rule.name in self.required,
                )
            )
        return tuple(steps)

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
        name = where = ""
        try:
            # The except clause names the failing step by its loop variables (B007 below).
            for name, reader, decode, default, where in self._reading:  # noqa: B007
                raw = reader(record)
                if raw is None or raw == "":
                    values[name] = default
                else:
                    # A code mapped to "null" counts as no value, so the default applies too.
                    value = decode(raw)
                    values[name] = default if value is None else value
        except ValueError as exc:
            raise RecordInvalid(f"{exc} (native '{where}')", field=name) from None
        values.update(self.unread_defaults)
        for name in self.required:
            if _missing(values.get(name)):
                raise RecordInvalid("required field is missing or empty", field=name)
        return values

    def write(
        self,
        obj: Any,
        steps: tuple[WriteStep, ...] | None = None,
        replaced: str = "",
        replacement: Any = None,
    ) -> dict[str, Any]:
        """The native payload for ``obj``: constants, then every field with a write path
        (only ``steps``, when given: a part of the payload, with the same errors for them).
        The field named ``replaced`` is written as if ``obj`` held ``replacement`` there."""
        out: dict[str, Any] = {}
        for path, constant in self.constants:
            path.set(out, copy_value(constant))
        for rule, getter, encode, key, default, required in (
            self._writing if steps is None else steps
        ):
            value = replacement if rule.name == replaced else getter(obj)
            # ``_missing(value)``, spelled out: a call per field per record is measurable here.
            if value is None or value == () or (isinstance(value, str) and not value.strip()):
                value = default
            native = None
            if value is not None:
                try:
                    native = encode(value)
                except ValueError as exc:
                    raise RecordInvalid(str(exc), field=rule.name) from None
            if native is None:
                if required:
                    raise RecordInvalid(
                        "required field has no native value to write", field=rule.name
                    )
            elif key is not None:
                out[key] = native
            else:
                assert rule.write is not None  # write steps only hold rules with a write path
                rule.write.set(out, native)
        return out


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
