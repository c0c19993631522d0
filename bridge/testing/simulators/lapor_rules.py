"""The rules of the fake LAPOR! v3: status table, institutions, templates and payload validation.

Pure functions and constants, shared by the state (`lapor_state`) and the web layer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bridge.testing.simulators._common import WIB, is_truthy

FIRST_TRACKING_ID = 4100001

# The real numeric table is not public (DOMAIN.md §1); these codes are ours, the names are real.
STATUSES: dict[int, str] = {
    0: "Belum Terverifikasi",
    1: "Terverifikasi",
    2: "Dalam Proses",
    3: "Selesai",
    4: "Diarsipkan",
    5: "Ditolak",
    6: "Ditutup oleh Admin/Sistem",
}
VERIFIED = 1
IN_PROGRESS = 2
CLOSED = 6

INSTITUTIONS: list[dict[str, Any]] = [
    {"id": 1001, "name": "Pemerintah Kabupaten Badung"},
    {"id": 1002, "name": "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Badung"},
    {"id": 1003, "name": "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Badung"},
    {"id": 1004, "name": "Dinas Kesehatan Kabupaten Badung"},
    {"id": 1005, "name": "Dinas Pendidikan, Kepemudaan dan Olahraga Kabupaten Badung"},
    {"id": 2001, "name": "Pemerintah Provinsi Bali"},
    {"id": 3001, "name": "BPJS Kesehatan"},
    {"id": 3002, "name": "Kementerian Dalam Negeri"},
]
_INSTITUTION_NAMES = {row["id"]: row["name"] for row in INSTITUTIONS}

TEMPLATES: list[dict[str, Any]] = [
    {
        "template_code": "TL-01",
        "title": "Laporan diterima",
        "type": "followup",
        "content": "Terima kasih, laporan Anda telah kami terima dan sedang ditindaklanjuti.",
    },
    {
        "template_code": "TL-02",
        "title": "Permintaan kelengkapan data",
        "type": "followup",
        "content": "Mohon lengkapi data pendukung (lokasi dan foto) agar dapat kami proses.",
    },
    {
        "template_code": "TL-03",
        "title": "Laporan selesai",
        "type": "followup",
        "content": "Laporan Anda telah selesai ditindaklanjuti. Terima kasih atas partisipasinya.",
    },
]

REPORTER_FIELDS = ("user_id", "is_new_user_slider", "nameUser", "phoneUser", "emailUser")


class PayloadError(ValueError):
    """A request the real API would refuse with 422; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownComplaint(LookupError):
    """No complaint with that tracking id."""


def institution_name(institution_id: Any) -> str | None:
    return _INSTITUTION_NAMES.get(institution_id)


def as_int(field: str, value: Any, *, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise PayloadError(field, f"The {field} field is required.")
        return None
    if isinstance(value, bool):
        raise PayloadError(field, f"The {field} must be an integer.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PayloadError(field, f"The {field} must be an integer.") from None


def _require_text(payload: Mapping[str, Any], field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(field, f"The {field} field is required and must be a non-empty string.")
    return value


def _check_reporter(payload: Mapping[str, Any]) -> None:
    if is_truthy(payload.get("is_anonymous")):
        return  # anonymous reports may come without any reporter identity
    if payload.get("user_id") not in (None, ""):
        return
    if payload.get("is_new_user_slider") is not True:
        raise PayloadError(
            "user_id", "The user_id field is required unless is_new_user_slider is true."
        )
    name = payload.get("nameUser")
    if not isinstance(name, str) or not name.strip():
        raise PayloadError("nameUser", "The nameUser field is required for a new user.")


def _check_date(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("date_of_incident")
    if value is None or value == "":
        return None
    # d/m/Y as documented, or ISO-8601 as both public production clients send it.
    try:
        datetime.strptime(str(value), "%d/%m/%Y")
    except ValueError:
        try:
            if "T" not in str(value):  # the clients send a timestamp, never a bare ISO date
                raise ValueError(value)
            datetime.fromisoformat(str(value))
        except ValueError:
            raise PayloadError(
                "date_of_incident", "The date_of_incident must match d/m/Y or ISO-8601."
            ) from None
    return str(value)


def _check_attachments(payload: Mapping[str, Any], docs: Mapping[int, Any]) -> list[int]:
    value = payload.get("attachments")
    if value is None or value == "":
        return []
    # The real API wants a string holding a JSON list, e.g. "[123,456]", not a JSON array.
    if not isinstance(value, str):
        raise PayloadError("attachments", "The attachments must be a string holding a JSON list.")
    # A production client (admin_lmw_v2's LaporForwardingService) sends the list with a
    # trailing "." ("[123,456]."), on purpose; its complaints are filed, so the API takes it.
    # How the API reads the dot is not public [A]: here it is ignored.
    try:
        ids = json.loads(value.removesuffix("."))
    except json.JSONDecodeError:
        raise PayloadError("attachments", "The attachments must be a JSON list of ids.") from None
    if not isinstance(ids, list) or not all(type(i) is int for i in ids):
        raise PayloadError("attachments", "The attachments must be a JSON list of integer ids.")
    unknown = [i for i in ids if i not in docs]
    if unknown:
        raise PayloadError("attachments", f"The attachments refer to unknown documents {unknown}.")
    return ids


def validate_complaint(payload: Any, docs: Mapping[int, Any]) -> dict[str, Any]:
    """Check a #2 payload like the real API; return the normalised fields to store."""
    if not isinstance(payload, dict):
        raise PayloadError("body", "The request body must be a JSON object.")
    fields: dict[str, Any] = {
        "title": _require_text(payload, "title"),
        "content": _require_text(payload, "content"),
        "disposition_id": as_int("disposition_id", payload.get("disposition_id")),
        "category_id": as_int("category_id", payload.get("category_id")),
    }
    _check_reporter(payload)
    tags = payload.get("tags_raw") or ""
    if not isinstance(tags, str):
        raise PayloadError("tags_raw", "The tags_raw must be a string.")
    fields.update(
        date_of_incident=_check_date(payload),
        attachments=_check_attachments(payload, docs),
        tags_raw=tags,
        classification_id=as_int(
            "classification_id", payload.get("classification_id"), required=False
        ),
        location_id=as_int("location_id", payload.get("location_id"), required=False),
        channel=as_int("channel", payload.get("channel"), required=False),
        is_anonymous=int(is_truthy(payload.get("is_anonymous"))),
        is_secret=int(is_truthy(payload.get("is_secret"))),
        is_priority=int(is_truthy(payload.get("is_priority"))),
        reporter={k: payload[k] for k in REPORTER_FIELDS if k in payload},
        payload=payload,
    )
    return fields


def parse_since(value: str) -> datetime:
    """ISO-8601 with or without zone; a naive value is WIB, the zone LAPOR! shows its times in."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=WIB)
