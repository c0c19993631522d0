"""The canonical side of a mapping: which fields exist, what kind each is, which native types fit.

Derived from ``bridge.model`` so that a field added to the model is mappable at once.
"""

from __future__ import annotations

import types
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from bridge.model import Attachment, Complaint, FollowUp, Location, Reporter, Status


class Kind(StrEnum):
    """What a canonical field holds."""

    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    TAGS = "tags"
    ATTACHMENTS = "attachments"
    STATUS = "status"


NATIVE_TYPES = ("string", "int", "float", "bool", "datetime", "date", "tags", "list", "attachments")

# Native types each kind can be read from and written as; the first is the default.
ALLOWED_TYPES: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: ("string", "int"),
    Kind.NUMBER: ("float", "string"),
    Kind.BOOL: ("bool",),
    Kind.DATE: ("date",),
    Kind.DATETIME: ("datetime",),
    Kind.TAGS: ("tags", "list"),
    Kind.ATTACHMENTS: ("attachments",),
    Kind.STATUS: ("string", "int"),
}
# A field read through a value map holds native *codes*, which are text or integers.
MAPPED_TYPES = ("string", "int")
MAPPABLE_KINDS = frozenset({Kind.TEXT, Kind.BOOL, Kind.STATUS})

# Canonical fields that are not declared in [fields], and where they are declared instead.
SPECIAL_FIELDS = {
    "source_id": "the native id path is set as `id` in [mapping] (or in [followups])",
    "updated_at": "the native updated-at path is set as `updated_at` in [mapping]",
    "raw_status": "give the label path as `label` on the status field",
    "followups": "declare follow-ups in a [followups] section (`in_record` for embedded lists)",
}

_NESTED: tuple[type[BaseModel], ...] = (Reporter, Location)
_ATTACHMENTS = tuple[Attachment, ...]
_TAGS = tuple[str, ...]


def _kind(annotation: Any) -> Kind | None:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = rest[0] if len(rest) == 1 else None
    if annotation == _TAGS:
        return Kind.TAGS
    if annotation == _ATTACHMENTS:
        return Kind.ATTACHMENTS
    # datetime is a date, so it is looked at first.
    simple = {str: Kind.TEXT, float: Kind.NUMBER, bool: Kind.BOOL, datetime: Kind.DATETIME}
    simple |= {date: Kind.DATE, Status: Kind.STATUS}
    return simple.get(annotation)


def _fields_of(model: type[BaseModel], prefix: str = "") -> dict[str, Kind]:
    fields: dict[str, Kind] = {}
    for name, info in model.model_fields.items():
        if info.annotation in _NESTED:
            fields |= _fields_of(info.annotation, f"{name}.")
        elif name not in SPECIAL_FIELDS and (kind := _kind(info.annotation)) is not None:
            fields[prefix + name] = kind
    return fields


COMPLAINT_FIELDS = _fields_of(Complaint)
FOLLOWUP_FIELDS = _fields_of(FollowUp)
ATTACHMENT_ITEMS = ("filename", "url", "content_type", "size")
