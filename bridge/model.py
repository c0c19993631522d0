"""The canonical complaint: what every system's record is mapped into and out of.

Plain data, no I/O. Every connector speaks its own native records; mapping files
(see ``bridge.mapping``) turn them into these types and back. The engine only ever
reasons about these types.

Timestamps are always timezone-aware here: a source's naive local times are given
their zone (WIB, WITA, WIT) by its mapping file before they reach this module.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Status(StrEnum):
    """The normalised life cycle of a complaint (DOMAIN.md §4).

    Each system's own codes and labels are kept beside it in ``RawStatus``; a raw
    value a mapping does not know is flagged for review, never guessed.
    """

    NEW = "new"
    VERIFIED = "verified"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESPONDED = "responded"
    CLOSED = "closed"
    ARCHIVED = "archived"
    REJECTED = "rejected"
    POSTPONED = "postponed"


FINAL_STATUSES = frozenset({Status.CLOSED, Status.ARCHIVED, Status.REJECTED})

# Limits that keep a runaway record (a 5 MB text from an old app's bug) from being
# forwarded: such a record is set aside with the reason instead. LAPOR!'s own limits
# are not public; these are generous for any real complaint (about 15,000 words).
MAX_TITLE = 500
MAX_TEXT = 100_000


class _Data(BaseModel):
    """Immutable, strict-about-names base for every canonical type."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RawStatus(_Data):
    """A status exactly as one system spells it."""

    code: str | None = None
    label: str | None = None


class Reporter(_Data):
    """The citizen who filed the complaint. Personal data: never log it in clear."""

    name: str | None = None
    nik: str | None = None
    phone: str | None = None
    email: str | None = None
    user_id: str | None = None

    def is_empty(self) -> bool:
        return not any((self.name, self.nik, self.phone, self.email, self.user_id))


class Location(_Data):
    address: str | None = None
    lat: float | None = None
    lng: float | None = None
    province: str | None = None
    regency: str | None = None
    district: str | None = None
    village: str | None = None
    location_id: str | None = None


class Attachment(_Data):
    """A file attached to a complaint or follow-up.

    ``url`` says where the source serves it; connectors that upload files fetch
    the bytes from there. ``content`` is only set when the bytes are already at
    hand (memory connector, spreadsheets with embedded files).
    """

    filename: str
    url: str | None = None
    content_type: str | None = None
    content: bytes | None = Field(default=None, repr=False)
    size: int | None = None


class FollowUp(_Data):
    """A *tindak lanjut*: an answer or note posted on a complaint."""

    source_id: str
    content: str = Field(max_length=MAX_TEXT)
    created_at: datetime | None = None
    author: str | None = None
    institution_from: str | None = None
    institution_to: str | None = None
    is_official: bool = False
    is_secret: bool = False
    attachments: tuple[Attachment, ...] = ()

    @field_validator("created_at")
    @classmethod
    def _must_be_aware(cls, value: datetime | None) -> datetime | None:
        return _require_aware(value)


class Complaint(_Data):
    """One complaint as the bridge understands it, whichever door it came through."""

    source_id: str
    title: str = Field(max_length=MAX_TITLE)
    content: str = Field(max_length=MAX_TEXT)
    category: str | None = None
    classification: str | None = None
    report_type: str | None = None
    channel: str | None = None
    reporter: Reporter = Reporter()
    location: Location = Location()
    incident_date: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_anonymous: bool = False
    is_secret: bool = False
    status: Status | None = None
    raw_status: RawStatus = RawStatus()
    institution_id: str | None = None
    institution_name: str | None = None
    ticket: str | None = None
    ref: str | None = None
    tags: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    followups: tuple[FollowUp, ...] = ()

    @field_validator("created_at", "updated_at")
    @classmethod
    def _must_be_aware(cls, value: datetime | None) -> datetime | None:
        return _require_aware(value)

    def without_identity(self) -> Complaint:
        """The complaint with the reporter's identity removed (for *anonim* reports)."""
        return self.model_copy(update={"reporter": Reporter()})


# Fields whose change is a real change of the complaint. Server-added volatile
# values (updated_at, ticket numbers, raw labels) are left out on purpose so that
# they never make two systems rewrite each other forever (TRAPS.md "Echo and churn").
_HASHED_FIELDS = (
    "title",
    "content",
    "category",
    "classification",
    "report_type",
    "reporter",
    "location",
    "incident_date",
    "is_anonymous",
    "is_secret",
    "status",
    "institution_id",
)


def content_hash(complaint: Complaint) -> str:
    """A stable digest of the fields that matter; the ledger keeps this, not the data."""
    encoded = _hashed_json(complaint)
    if encoded is not None:
        try:
            return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:
            pass  # a lone surrogate put in by model_copy: the reference path says what it does
    return hashlib.sha256(_reference_json(complaint).encode("utf-8")).hexdigest()


def _reference_json(complaint: Complaint) -> str:
    """The hashed bytes' definition: pydantic's JSON-mode dump, keys sorted, compact."""
    payload: dict[str, Any] = complaint.model_dump(mode="json", include=set(_HASHED_FIELDS))
    payload["attachments"] = sorted(a.filename for a in complaint.attachments)
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# ``_reference_json`` spelled directly for the value types validation leaves in a complaint:
# text through the very function ``json.dumps`` escapes it with, finite floats by ``repr``
# as ``json.dumps`` writes them, keys in the order ``sort_keys`` puts them. Any other value
# (a non-finite float, or what ``model_copy`` put there unvalidated) takes the reference
# path. tests/test_model_hash.py holds the two equal.
_TEXT = json.encoder.encode_basestring
_GROUPS: dict[str, type[_Data]] = {"reporter": Reporter, "location": Location}
_SPECIAL = ("attachments", "status", "incident_date")


def _layout() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """The leaf fields in ``sort_keys`` order, the JSON text before each, and the end."""
    leaves: list[str] = []
    before: list[str] = []
    pending = "{"
    for key in sorted((*_HASHED_FIELDS, "attachments")):
        head = f'{pending}"{key}":'
        if key in _GROUPS:
            for sub in sorted(_GROUPS[key].model_fields):
                leaves.append(f"{key}.{sub}")
                before.append(f'{head}{{"{sub}":' if head else f',"{sub}":')
                head = ""
            pending = "},"
        else:
            leaves.append(key)
            before.append(head)
            pending = ","
    return tuple(leaves), tuple(before), pending.removesuffix(",") + "}"


_LEAVES, _BEFORE, _END = _layout()
_OTHERS = ("is_anonymous", "is_secret", "location.lat", "location.lng")  # bool, float | None
_TEXTS = tuple(leaf for leaf in _LEAVES if leaf not in (*_SPECIAL, *_OTHERS))  # str | None
_GET_TEXTS, _GET_OTHERS = attrgetter(*_TEXTS), attrgetter(*_OTHERS)
_TEXTISH = frozenset({str, type(None)})


def _hashed_json(complaint: Complaint) -> str | None:
    """``_reference_json(complaint)``, fast; None when a value is of an unusual type."""
    if (
        type(complaint) is not Complaint
        or type(complaint.reporter) is not Reporter
        or type(complaint.location) is not Location
    ):
        return None
    names = [a.filename for a in complaint.attachments]
    status, incident = complaint.status, complaint.incident_date
    texts = _GET_TEXTS(complaint)
    if (
        not all(type(name) is str for name in names)
        or not (status is None or type(status) is Status)
        or not (incident is None or type(incident) is date)
        or not _TEXTISH.issuperset(map(type, texts))
    ):
        return None
    values = dict(zip(_TEXTS, [_TEXT(v) if v is not None else "null" for v in texts], strict=True))
    for leaf, value in zip(_OTHERS, _GET_OTHERS(complaint), strict=True):
        kind = type(value)
        if kind is bool:
            values[leaf] = "true" if value else "false"
        elif value is None:
            values[leaf] = "null"
        elif kind is float and math.isfinite(value):
            values[leaf] = float.__repr__(value)
        else:
            return None
    values["attachments"] = "[" + ",".join([_TEXT(name) for name in sorted(names)]) + "]"
    values["status"] = "null" if status is None else _TEXT(status.value)
    values["incident_date"] = "null" if incident is None else f'"{incident.isoformat()}"'
    return (
        "".join([before + values[leaf] for leaf, before in zip(_LEAVES, _BEFORE, strict=True)])
        + _END
    )


def change_hash(complaint: Complaint) -> str:
    """What the bridge remembers it last *saw* of a record, to notice that it changed.

    The content hash plus the record's own update time and follow-up count: a new
    follow-up rarely changes the complaint's fields, but a system that bumps its
    ``updated_at`` (or lists its follow-ups) tells us to look. Seeing a change costs
    only reads; what gets written is still decided by content, so there is no echo.
    """
    stamp = complaint.updated_at.isoformat() if complaint.updated_at else ""
    extra = f"{stamp}\x1f{len(complaint.followups)}"
    return hashlib.sha256(f"{content_hash(complaint)}\x1f{extra}".encode()).hexdigest()


# A bridge reference: ``lb`` + the installation's tag (8 hex digits, absent in references
# made before installations were named) + 16 hex digits of the record's own digest.
REF_TEXT = r"lb(?:[0-9a-f]{8})?[0-9a-f]{16}"
REF_PATTERN = re.compile(rf"^{REF_TEXT}$")


def carried_ref(complaint: Complaint) -> str | None:
    """The bridge reference a record carries (its ref field, or a tag), if it has one."""
    if complaint.ref and REF_PATTERN.match(complaint.ref):
        return complaint.ref
    for tag in complaint.tags:
        candidate = tag.lstrip("#")
        if REF_PATTERN.match(candidate):
            return candidate
    return None


def make_ref(system: str, source_id: str, installation: str = "") -> str:
    """The bridge's own reference for a complaint first seen as ``source_id`` in ``system``.

    Deterministic, so that even a lost ledger stamps the same reference and finds the
    copies it made before; unique across agencies, because it is derived from the
    ``installation`` (``[ledger] installation``, or the agency's LAPOR! institution id):
    two pemda that both name their connector ``pengaduan`` write different references
    into the one national LAPOR!. Short and alphanumeric, so that it survives as a
    LAPOR! hashtag in ``tags_raw`` and can be found again with a search (LAPOR! has no
    idempotency key). Without an installation it is the older form, ``lb`` + 16 digits.
    """
    if not installation:
        digest = hashlib.sha256(f"{system}\x1f{source_id}".encode()).hexdigest()
        return f"lb{digest[:16]}"
    digest = hashlib.sha256(f"{installation}\x1f{system}\x1f{source_id}".encode()).hexdigest()
    return f"lb{installation_tag(installation)}{digest[:16]}"


def installation_tag(installation: str) -> str:
    """The 8 hex digits every reference made by ``installation`` starts with (after ``lb``)."""
    return hashlib.sha256(f"installation\x1f{installation}".encode()).hexdigest()[:8]


def made_by(ref: str, installation: str) -> bool:
    """True when ``ref`` is a reference that this ``installation`` made (any of its systems)."""
    return bool(installation) and len(ref) == 26 and ref[2:10] == installation_tag(installation)


def _require_aware(value: datetime | None) -> datetime | None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(
            "timestamp has no time zone; set `timezone` in the mapping file so naive "
            "local times can be read"
        )
    return value
