"""The ``Mapping`` the engine applies, and the functions that load and check mapping files."""

from __future__ import annotations

import tomllib
from collections import abc
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from bridge.errors import MappingError, RecordInvalid
from bridge.mapping._agency import CHECK_ONLY, AgencyValues
from bridge.mapping._compile import Compiled, Compiler, FieldPaths
from bridge.mapping._identity import NaturalKey
from bridge.mapping._spec import RecordSpec, WriteStep, nest, rules_under
from bridge.mapping._unsent import CARRIED, noted_text, unsent_line
from bridge.mapping._values import DateTimeCodec, MappedCodec, native_key
from bridge.model import Complaint, FollowUp, RawStatus, Status

_Model = TypeVar("_Model", bound=BaseModel)


class Mapping:
    """One system's mapping file, compiled: apply it to native records both ways.

    Pure: no I/O, no logging. Every per-record failure is a ``RecordInvalid`` naming
    the canonical field, so the engine can quarantine the record and go on.
    """

    def __init__(self, path: Path, compiled: Compiled) -> None:
        self.path = path
        self.system = compiled.system
        self.timezone: ZoneInfo = compiled.timezone
        self.has_updated_at = compiled.updated_at is not None
        self.has_followups = compiled.followups is not None
        self.field_paths: dict[str, FieldPaths] = compiled.field_paths
        self._complaint = compiled.complaint
        self._status = compiled.status
        self._updated_at = compiled.updated_at
        self._updated_codec = DateTimeCodec(compiled.timezone, compiled.date_formats, None)
        self._followups = compiled.followups
        self._in_record = compiled.in_record
        # Two-way sync: who wins a conflict, how a status is written, what identifies a record.
        self.owned_statuses: frozenset[Status] = compiled.sync.owned_statuses
        self.owned_fields: frozenset[str] = compiled.sync.owned_fields
        self.can_write_status = compiled.sync.status_writer is not None
        self._status_writer = compiled.sync.status_writer
        self._natural_key = NaturalKey(compiled.sync.natural_key)
        # The connector's schema-level settings, read-only and unchecked here.
        self.transport: abc.Mapping[str, Any] = compiled.sync.transport
        self._unsent_note = compiled.unsent_note
        self._unwritten = {
            name: not (name in self.field_paths and self.field_paths[name].write)
            for name in CARRIED
        }
        self._parts: dict[tuple[str, ...], tuple[tuple[str, ...], tuple[WriteStep, ...]]] = {}
        # The last note line made, by what it is made of: one complaint is written whole and
        # in parts (the anonymity check), each time with the same line.
        self._last_note: tuple[tuple[Any, ...], str | None] = ((), None)

    def __repr__(self) -> str:
        return f"Mapping(system={self.system!r}, path={str(self.path)!r})"

    @property
    def round_trip_fields(self) -> tuple[str, ...]:
        """Canonical fields both read and written: they survive native → canonical → native."""
        return tuple(n for n, p in self.field_paths.items() if p.read and p.write)

    def native_id(self, record: dict[str, Any]) -> str:
        """The record's id in its own system, as text."""
        return self._complaint.native_id(record)

    def native_updated_at(self, record: dict[str, Any]) -> datetime | None:
        """The record's aware update time, or None when the mapping or the record has none."""
        if self._updated_at is None:
            return None
        raw = self._updated_at.get(record)
        if raw is None or raw == "":
            return None
        try:
            value: datetime = self._updated_codec.decode(raw)
        except ValueError as exc:
            raise RecordInvalid(
                f"{exc} (native '{self._updated_at.text}')", field="updated_at"
            ) from None
        return value

    def to_canonical(self, record: dict[str, Any]) -> Complaint:
        """The native record as a ``Complaint``; an unknown status is kept raw with status None."""
        if not isinstance(record, dict):
            raise RecordInvalid(f"expected a JSON object, got {type(record).__name__}")
        values = self._complaint.read(record)
        values["source_id"] = self._complaint.native_id(record)
        values["updated_at"] = self.native_updated_at(record)
        if self._status is not None:
            values.update(self._read_status(record))
        if self._in_record is not None:
            values["followups"] = self._embedded_followups(record)
        if values.get("is_secret") is None:
            # Fail closed (UU 27/2022): a complaint whose rahasia flag is missing or blank
            # is confidential. A source with no such concept says so in its mapping:
            # `[defaults] is_secret = false`.
            values["is_secret"] = True
        return _build(Complaint, values)

    def is_secret_of(self, record: Any) -> bool:
        """The rahasia flag alone, of a record perhaps unreadable as a whole (fail closed).

        For what is kept of a record set aside: when the flag cannot be read, it is rahasia.
        """
        value: Any = None
        rule = next((r for r in self._complaint.reads if r.name == "is_secret"), None)
        if rule is not None and rule.read is not None and isinstance(record, dict):
            raw = rule.read.get(record)
            try:
                value = None if raw is None or raw == "" else rule.codec.decode(raw)
            except ValueError:
                return True
        if value is None:
            value = self._complaint.defaults.get("is_secret")
        return value is not False

    def to_native(self, complaint: Complaint, *, origin: str | None = None) -> dict[str, Any]:
        """The native payload to create ``complaint`` here (attachments are the connector's job).

        With ``unsent_note`` and an ``origin`` (the system the complaint came from; the sync
        passes it), what this system has no field for (the original date, the status in
        ``origin``) is appended to that text field.
        """
        return self._complaint.write(complaint, None, *self._noted(complaint, origin))

    def written_from(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        """The payload's top-level keys written from any of ``fields`` (canonical names, or
        a group such as ``"reporter"`` for all of its fields); worked out once per mapping."""
        return self._part(fields)[0]

    def to_native_part(
        self, complaint: Complaint, fields: tuple[str, ...], *, origin: str | None = None
    ) -> dict[str, Any]:
        """``to_native`` under the keys ``written_from(fields)`` only, with the same errors
        for the fields written there (the rest of the payload may hold anything else)."""
        steps = self._part(fields)[1]
        return self._complaint.write(complaint, steps, *self._noted(complaint, origin))

    def _part(self, fields: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[WriteStep, ...]]:
        part = self._parts.get(fields)
        if part is None:
            keys, rules = rules_under(self._complaint.writes, fields)
            part = self._parts[fields] = (keys, self._complaint.write_steps(rules))
        return part

    def _noted(self, complaint: Complaint, origin: str | None) -> tuple[str, str | None]:
        """The unsent-note field and its text with the note, or ("", None) for no change."""
        if self._unsent_note is None or origin is None:
            return "", None
        raw, created = complaint.raw_status, complaint.created_at
        # The zone too: equal instants in two zones are one key, but not one text at the
        # calendar's edge, where the time is shown in its own zone.
        made_of = (
            created,
            created and created.tzinfo,
            raw.label,
            raw.code,
            complaint.status,
            origin,
        )
        last_made_of, line = self._last_note
        if made_of != last_made_of:
            line = unsent_line(complaint, self._unwritten, self.timezone, origin)
            self._last_note = (made_of, line)
        text = noted_text(getattr(complaint, self._unsent_note), line)
        return (self._unsent_note, text) if text is not None else ("", None)

    def followup_to_canonical(self, record: dict[str, Any]) -> FollowUp:
        """A native follow-up record as a ``FollowUp``."""
        spec = self._followup_spec()
        if not isinstance(record, dict):
            raise RecordInvalid(f"expected a JSON object, got {type(record).__name__}")
        values = spec.read(record)
        values["source_id"] = spec.native_id(record)
        return _build(FollowUp, values)

    def followup_to_native(self, followup: FollowUp) -> dict[str, Any]:
        """The native payload to post ``followup`` here."""
        return self._followup_spec().write(followup)

    @property
    def natural_key(self) -> tuple[str, ...]:
        """Canonical fields that identify a complaint without the bridge's reference; () if none."""
        return self._natural_key.names

    def natural_key_of(self, complaint: Complaint) -> tuple[str, ...] | None:
        """``complaint``'s normalised natural key; None when a part is missing or none is set."""
        return self._natural_key.of(complaint)

    def status_to_native(self, status: Status) -> dict[str, Any]:
        """The native payload of a change to ``status`` (the connector adds the record id)."""
        if self._status_writer is None:
            raise RecordInvalid(
                f"mapping {self.system!r} has no [status_write] section: "
                "statuses cannot be written to this system",
                field="status",
            )
        return self._status_writer.write(status)

    def status_code(self, status: Status) -> str:
        """The raw code ``status_to_native`` writes for ``status`` (the ledger keeps raw codes)."""
        payload = self.status_to_native(status)
        assert self._status_writer is not None  # status_to_native raised otherwise
        return str(self._status_writer.path.get(payload))

    def to_canonical_status(self, raw_code: str | None, raw_label: str | None) -> Status | None:
        """The canonical status of a raw code and label; None when the mapping does not know it."""
        if self._status is None:
            return None
        return self._status.status(raw_code, raw_label)

    def unmapped_codes(self, record: dict[str, Any]) -> list[tuple[str, str]]:
        """(value table, code) of each code in ``record`` its value tables do not map.

        Read-only and never raising: ``bridge mapping codes`` counts them over a pull.
        """
        found = []
        for rule in self._complaint.reads:
            raw = rule.read.get(record) if rule.read is not None else None
            codec = rule.codec
            if isinstance(codec, MappedCodec) and raw not in (None, "") and not codec.knows(raw):
                found.append((codec.table, _code_text(raw)))
        if self._status is not None and self._status.read is not None:
            raw = self._status.read.get(record)
            try:
                known = self._read_status(record).get("status") if raw not in (None, "") else 1
            except RecordInvalid:
                known = None
            if known is None:
                found.append(("status", _code_text(raw)))
        return found

    def fallback_codes(self, record: abc.Mapping[str, Any]) -> list[tuple[str, str, str]]:
        """(value table, code, fallback) of each unmapped code read as its table's fallback.

        The complaint was delivered with the fallback; the sync flags it for review.
        """
        found = []
        for rule in self._complaint.reads:
            codec = rule.codec
            if not isinstance(codec, MappedCodec) or codec.fallback is None:
                continue
            raw = rule.read.get(dict(record)) if rule.read is not None else None
            if raw not in (None, "") and not codec.knows(raw):
                found.append((codec.table, _code_text(raw), codec.fallback))
        return found

    def fallback_values(self, complaint: Complaint) -> list[tuple[str, str, str]]:
        """(value table, canonical value, fallback) of each value written as the fallback's code.

        The write side of ``fallback_codes``: the complaint was delivered; the sync flags it.
        """
        found = []
        for rule in self._complaint.writes:
            codec, value = rule.codec, rule.getter(complaint)
            if not isinstance(codec, MappedCodec) or codec.fallback is None:
                continue
            if value not in (None, "") and not codec.writes(value):
                found.append((codec.table, str(value)[:40], codec.fallback))
        return found

    def _read_status(self, record: dict[str, Any]) -> dict[str, Any]:
        assert self._status is not None
        code = self._status.read.get(record) if self._status.read is not None else None
        label = self._status.label.get(record) if self._status.label is not None else None
        try:
            code_text = None if code is None or code == "" else native_key(code)
            label_text = None if label is None or str(label).strip() == "" else str(label).strip()
        except ValueError:
            # Only an int too long to print gets here: not a status any system has.
            raise RecordInvalid("the status code is too long to read", field="status") from None
        if code_text is None and label_text is None:
            return {}
        return {
            "raw_status": RawStatus(code=code_text, label=label_text),
            "status": self._status.status(code_text, label_text),
        }

    def _embedded_followups(self, record: dict[str, Any]) -> tuple[FollowUp, ...]:
        assert self._in_record is not None
        items = self._in_record.get(record)
        if not isinstance(items, list):
            return ()
        try:
            return tuple(self.followup_to_canonical(item) for item in items)
        except RecordInvalid as exc:
            # A follow-up that is not even an object has no field: name the list, not "None".
            where = "followups" if exc.field is None else f"followups.{exc.field}"
            raise RecordInvalid(exc.reason, field=where) from None

    def _followup_spec(self) -> RecordSpec:
        if self._followups is None:
            raise RecordInvalid(
                f"mapping {self.system!r} has no [followups] section", field="followups"
            )
        return self._followups


def _build(model: type[_Model], values: dict[str, Any]) -> _Model:
    try:
        return model.model_validate(nest(values))
    except ValidationError as exc:
        # Only the location and pydantic's message: the input may be personal data.
        first = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise RecordInvalid(first["msg"], field=field or None) from None


def load_mapping(path: str | Path, agency: AgencyValues | None = None) -> Mapping:
    """Read and validate a mapping file; ``MappingError`` lists every problem at once.

    ``agency``: the configuration's ``[agency]`` values, which ``{ agency = "KEY" }``
    references take; without it a reference is a problem (see ``bridge.mapping._agency``).
    """
    path = Path(path)
    source = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(
            [f"{source}: cannot be read ({exc.strerror}); check the path"], source=source
        ) from None
    except UnicodeDecodeError:
        raise MappingError(
            [f"{source}: is not UTF-8 text; save it as UTF-8"], source=source
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(
            [f"{source}: is not valid TOML ({exc}); fix the syntax there"], source=source
        ) from None
    compiler = Compiler(source, doc, agency)
    compiled = compiler.compile()
    if compiled is None:
        raise MappingError(compiler.problems, source=source)
    return Mapping(path, compiled)


def check_mappings(
    paths: Iterable[Path], agency: AgencyValues = CHECK_ONLY
) -> dict[Path, list[str]]:
    """Every file's problems ([] when it is fine); never raises for a bad file.

    Without the configuration's ``agency``, references to ``[agency]`` are checked by
    their keys only.
    """
    results: dict[Path, list[str]] = {}
    for path in paths:
        try:
            load_mapping(path, agency)
        except MappingError as exc:
            results[path] = exc.problems
        else:
            results[path] = []
    return results


def _code_text(raw: Any) -> str:
    try:
        return native_key(raw)
    except ValueError:
        return str(raw)[:40]
