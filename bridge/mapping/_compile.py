"""A parsed mapping file → compiled rules, or the list of everything wrong with it."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from bridge.mapping._agency import UNRESOLVED, AgencyValues
from bridge.mapping._context import Context, quoted
from bridge.mapping._fields import canonical_default, compile_field, compile_status
from bridge.mapping._paths import NativePath, overlapping
from bridge.mapping._schema import COMPLAINT_FIELDS, FOLLOWUP_FIELDS, SPECIAL_FIELDS, Kind
from bridge.mapping._spec import FieldRule, RecordSpec, StatusRule
from bridge.mapping._sync import Constants, SyncSections, compile_sync, native_constants
from bridge.mapping._unsent import NOTE_TARGETS
from bridge.model import Complaint, FollowUp

TOP_KEYS: tuple[str, ...] = ("mapping", "fields", "required", "defaults", "constants", "values")
TOP_KEYS += ("followups", "owns", "status_write", "transport")
HEAD_KEYS = ("system", "timezone", "date_formats", "id", "updated_at", "natural_key", "unsent_note")
FOLLOWUP_KEYS = ("id", "in_record", "fields", "required", "defaults", "constants")
GROUPS = ("reporter", "location")
ZONE_HINT = "use an IANA name: 'Asia/Jakarta' (WIB), 'Asia/Makassar' (WITA), 'Asia/Jayapura' (WIT)"


class FieldPaths(NamedTuple):
    """Where one canonical field is read from and written to (dotted native paths)."""

    read: str | None
    write: str | None


@dataclass(frozen=True)
class Compiled:
    system: str
    timezone: ZoneInfo
    date_formats: tuple[str, ...]
    updated_at: NativePath | None
    complaint: RecordSpec
    status: StatusRule | None
    followups: RecordSpec | None
    in_record: NativePath | None
    field_paths: dict[str, FieldPaths]
    sync: SyncSections
    unsent_note: str | None = None


def _flatten(table: dict[str, Any]) -> dict[str, Any]:
    """Accept ``reporter = { name = ... }`` as well as ``"reporter.name" = ...``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if key in GROUPS and isinstance(value, dict):
            flat |= {f"{key}.{sub}": item for sub, item in value.items()}
        else:
            flat[key] = value
    return flat


def _model_required(model: type[BaseModel]) -> frozenset[str]:
    required = {name for name, info in model.model_fields.items() if info.is_required()}
    return frozenset(required - {"source_id"})


class Compiler(Context):
    """Compiles one parsed mapping file; ``problems`` lists everything wrong with it."""

    def __init__(
        self, source: str, doc: dict[str, Any], agency: AgencyValues | None = None
    ) -> None:
        super().__init__(source, agency)
        self.doc = doc
        self.status: StatusRule | None = None

    def compile(self) -> Compiled | None:
        self.unknown_keys("top level", self.doc, TOP_KEYS)
        head = self._head()
        self.load_value_maps(self.table(self.doc, "values", "[values]"))
        updated_at = (
            self.path("[mapping]", "updated_at", head["updated_at"])
            if "updated_at" in head
            else None
        )
        complaint = self._record("", self.doc, COMPLAINT_FIELDS, Complaint, head.get("id"))
        followups, in_record = self._followups()
        sync = compile_sync(self, self.doc, head, self.status, self._readable(complaint))
        self.report_unused_maps()
        paths = self._field_paths(complaint) if complaint is not None else {}
        unsent_note = self._unsent_note(head.get("unsent_note"), paths)
        self.problems = list(dict.fromkeys(self.problems))
        if self.problems or complaint is None:
            return None
        return Compiled(
            system=str(head["system"]),
            timezone=self.zone,
            date_formats=self.formats,
            updated_at=updated_at,
            complaint=complaint,
            status=self.status,
            followups=followups,
            in_record=in_record,
            field_paths=paths,
            sync=sync,
            unsent_note=unsent_note,
        )

    def _head(self) -> dict[str, Any]:
        if "mapping" not in self.doc:
            self.problem(
                "[mapping]", "is missing; add it with system, timezone and id (see the file header)"
            )
        head = self.table(self.doc, "mapping", "[mapping]")
        self.unknown_keys("[mapping]", head, HEAD_KEYS)
        system = head.get("system")
        if not isinstance(system, str) or not system.strip():
            self.problem("[mapping]", 'system is missing; name the system, e.g. system = "sidumas"')
        self.zone = self._zone(head.get("timezone"))
        formats = head.get("date_formats", [])
        if isinstance(formats, list) and all(isinstance(f, str) and "%" in f for f in formats):
            self.formats = tuple(formats)
        else:
            self.problem(
                "[mapping]",
                'date_formats must be a list of strptime formats, e.g. ["%Y-%m-%d %H:%M:%S"]',
            )
        return head

    def _unsent_note(self, value: object, paths: dict[str, FieldPaths]) -> str | None:
        """``unsent_note``: the written text field the original date and status go into."""
        if value is None or value is False:
            return None
        if value not in NOTE_TARGETS or not paths.get(str(value), FieldPaths(None, None)).write:
            self.problem(
                "[mapping]",
                "unsent_note must name a text field this mapping writes "
                f"({' or '.join(NOTE_TARGETS)}), or be false",
            )
            return None
        return str(value)

    def _zone(self, name: object) -> ZoneInfo:
        if not isinstance(name, str):
            self.problem("[mapping]", f"timezone is missing; naive times need a zone: {ZONE_HINT}")
            return ZoneInfo("UTC")
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem("[mapping]", f"timezone {name!r} is not a known time zone; {ZONE_HINT}")
            return ZoneInfo("UTC")

    def _followups(self) -> tuple[RecordSpec | None, NativePath | None]:
        if "followups" not in self.doc:
            return None, None
        table = self.table(self.doc, "followups", "[followups]")
        self.unknown_keys("[followups]", table, FOLLOWUP_KEYS)
        in_record = (
            self.path("[followups]", "in_record", table["in_record"])
            if "in_record" in table
            else None
        )
        spec = self._record("followups.", table, FOLLOWUP_FIELDS, FollowUp, table.get("id"))
        return spec, in_record

    def _record(
        self,
        prefix: str,
        table: dict[str, Any],
        registry: dict[str, Kind],
        model: type[BaseModel],
        id_value: object,
    ) -> RecordSpec | None:
        """One record kind: [fields], [required], [defaults], [constants] under ``prefix``."""
        id_where = "[followups]" if prefix else "[mapping]"
        id_path = self.path(id_where, "id", id_value)
        rules = self._rules(prefix, self.table(table, "fields", f"[{prefix}fields]"), registry)
        defaults = self._defaults(
            prefix, self.table(table, "defaults", f"[{prefix}defaults]"), registry
        )
        required = self._required(prefix, table, registry, model, rules, defaults)
        constants = self._constants(prefix, self.table(table, "constants", f"[{prefix}constants]"))
        self._check_writes(prefix, rules, constants)
        if id_path is None:
            return None
        read_names = {rule.name for rule in rules if rule.read is not None}
        return RecordSpec(
            id_path=id_path,
            reads=tuple(rule for rule in rules if rule.read is not None),
            writes=tuple(rule for rule in rules if rule.write is not None),
            required=required,
            defaults=defaults,
            constants=constants,
            unread_defaults=tuple((n, v) for n, v in defaults.items() if n not in read_names),
        )

    def _known(self, where: str, name: str, registry: dict[str, Kind]) -> bool:
        if name in SPECIAL_FIELDS:
            self.problem(where, f"{name!r} is not declared here: {SPECIAL_FIELDS[name]}")
        elif name not in registry:
            close = get_close_matches(name, registry, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            known = ", ".join(registry)
            self.problem(where, f"{name!r} is not a canonical field; {hint}use one of: {known}")
        return name in registry

    def _rules(
        self, prefix: str, fields: dict[str, Any], registry: dict[str, Kind]
    ) -> list[FieldRule]:
        rules: list[FieldRule] = []
        section = f"{prefix}fields"
        for name, spec in _flatten(fields).items():
            if not self._known(f"[{section}]", name, registry):
                continue
            if registry[name] is Kind.STATUS:
                self.status, writer = compile_status(self, section, spec)
                rules.extend([writer] if writer is not None else [])
            elif (rule := compile_field(self, section, name, registry[name], spec)) is not None:
                rules.append(rule)
        return rules

    def _defaults(
        self, prefix: str, table: dict[str, Any], registry: dict[str, Kind]
    ) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for name, value in _flatten(table).items():
            if not self._known(f"[{prefix}defaults]", name, registry):
                continue
            value = self.agency_value(f"[{prefix}defaults]", name, value)
            if value is UNRESOLVED:
                continue
            try:
                defaults[name] = canonical_default(self, registry[name], value)
            except ValueError as exc:
                self.problem(
                    f"[{prefix}defaults]",
                    f"{quoted(name)} = {value!r} {exc}; give a value of that kind",
                )
        return defaults

    def _required(
        self,
        prefix: str,
        table: dict[str, Any],
        registry: dict[str, Kind],
        model: type[BaseModel],
        rules: list[FieldRule],
        defaults: dict[str, Any],
    ) -> frozenset[str]:
        where = f"[{prefix}required]"
        section = self.table(table, "required", where)
        self.unknown_keys(where, section, ("fields",))
        names = section.get("fields", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.problem(
                where, 'fields must be a list of canonical names, e.g. ["title", "content"]'
            )
            names = []
        declared = {n for n in names if self._known(where, n, registry)}
        readable = {rule.name for rule in rules if rule.read is not None} | set(defaults)
        if self.status is not None and not prefix:
            readable.add("status")
        for name in sorted((declared | _model_required(model)) - readable):
            self.problem(
                f"[{prefix}fields]",
                f"{quoted(name)} is required but not read; "
                f'add {quoted(name)} = "<native path>" or a default',
            )
        return frozenset(declared | _model_required(model))

    def _constants(self, prefix: str, table: dict[str, Any]) -> Constants:
        return native_constants(self, f"[{prefix}constants]", table)

    def _check_writes(
        self, prefix: str, rules: list[FieldRule], constants: tuple[tuple[NativePath, Any], ...]
    ) -> None:
        """Two writers of one native path would silently overwrite each other."""
        writers = [
            (f"[{prefix}fields.{quoted(r.name)}]", r.write) for r in rules if r.write is not None
        ]
        writers += [(f"[{prefix}constants] {p.text}", p) for p, _ in constants]
        for i, (where, path) in enumerate(writers):
            for other, other_path in writers[i + 1 :]:
                if overlapping(path, other_path):
                    self.problem(
                        where, f"writes {path.text!r}, which {other} also writes; keep one"
                    )

    def _readable(self, spec: RecordSpec | None) -> set[str]:
        """Canonical fields a complaint read here can carry (read, defaulted, or the status)."""
        if spec is None:
            return set()
        names = {rule.name for rule in spec.reads} | set(spec.defaults)
        status = self.status
        reads_status = status is not None and (status.read or status.label) is not None
        return names | ({"status"} if reads_status else set())

    def _field_paths(self, spec: RecordSpec) -> dict[str, FieldPaths]:
        paths: dict[str, list[str | None]] = {}
        for rule in spec.reads:
            paths.setdefault(rule.name, [None, None])[0] = rule.read.text if rule.read else None
        for rule in spec.writes:
            paths.setdefault(rule.name, [None, None])[1] = rule.write.text if rule.write else None
        if self.status is not None and self.status.read is not None:
            paths.setdefault("status", [None, None])[0] = self.status.read.text
        return {name: FieldPaths(read, write) for name, (read, write) in paths.items()}
