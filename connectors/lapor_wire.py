"""LAPOR!'s wire format: reference hashtags, answer envelopes, form fields, path segments.

Pure functions over what LAPOR! sends and expects (DOMAIN.md §2); ``connectors.lapor``
does the talking.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bridge.connector import NativeRecord
from bridge.errors import ProtocolError
from bridge.http import answers

_TAG_SPLIT = re.compile(r"[\s,;]+")


def has_tag(tags_raw: Any, ref: str) -> bool:
    """True when ``ref`` is one whole hashtag of ``tags_raw`` (``#ref``), not a prefix of one."""
    return ref.casefold() in {t.lstrip("#").casefold() for t in _tags(tags_raw)}


def add_tag(tags_raw: Any, ref: str) -> str:
    """``tags_raw`` with ``#ref`` appended once, keeping the existing tags."""
    tags = _tags(tags_raw)
    if not has_tag(tags, ref):
        tags.append(f"#{ref}")
    return " ".join(tags)


def _tags(tags_raw: Any) -> list[str]:
    if tags_raw is None:
        return []
    if isinstance(tags_raw, list | tuple | set):
        return [str(t).strip() for t in tags_raw if str(t).strip()]
    return [t for t in _TAG_SPLIT.split(str(tags_raw)) if t]


def results_of(body: Any, context: str) -> dict[str, Any]:
    """The ``results`` object of a LAPOR! envelope, or ProtocolError."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, dict):
        raise ProtocolError(f"{context}: the answer has no `results` envelope")
    return results


def created_id(body: Any, context: str) -> str:
    """The new id: top-level ``complaint_id`` or ``results.complaint.id`` (both are seen).

    An id that names no record (``0``, ``null``, ``false``, "") is a ProtocolError.
    """
    if isinstance(body, dict):
        if body.get("complaint_id") is not None:
            return answers.created_id(body["complaint_id"], context=context, where="complaint_id")
        results = body.get("results")
        complaint = results.get("complaint") if isinstance(results, dict) else None
        if isinstance(complaint, dict) and "id" in complaint:
            return answers.created_id(
                complaint["id"], context=context, where="results.complaint.id"
            )
    raise ProtocolError(
        f"{context}: the answer carries neither complaint_id nor results.complaint.id"
    )


def followup_id(body: Any) -> str | None:
    """The new follow-up's id from #6's answer, or None when it carries none.

    Seen or plausible shapes: ``results.id``, ``results.followup.id``,
    ``results.data.id``, a top-level ``followup_id``.
    """
    if not isinstance(body, dict):
        return None
    results = body.get("results")
    results = results if isinstance(results, dict) else {}
    candidates = [results.get("id"), body.get("followup_id")]
    for key in ("followup", "data"):
        nested = results.get(key)
        if isinstance(nested, dict):
            candidates.append(nested.get("id"))
    found = next((c for c in candidates if c not in (None, "") and not isinstance(c, bool)), None)
    return None if found is None else str(found)


def form_fields(fields: NativeRecord) -> dict[str, str]:
    """Form values as text: flags as 1/0, None left out (an empty field is not "None")."""
    form: dict[str, str] = {}
    for key, value in fields.items():
        if value is None:
            continue
        form[key] = str(int(value)) if isinstance(value, bool) else str(value)
    return form


def segment(record_id: str) -> str:
    """A record id as one URL path segment (no way to reach another path)."""
    return quote(record_id, safe="")


def iso_aware(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("`since` must be timezone-aware")
    return moment.isoformat()


def uploaded_ids(results: dict[str, Any], context: str) -> list[Any]:
    """The document ids an upload (#1) answered: ``results.docs`` and ``results.images``.

    LAPOR! files photos under ``images`` and other files under ``docs`` (the upload
    answer the public clients read); an id dropped here is a photo lost from the
    complaint, so both lists count, and at least one must be there.
    """
    found = [results[key] for key in ("docs", "images") if results.get(key) is not None]
    ok = all(
        isinstance(v, list) and all(isinstance(d, dict) and "id" in d for d in v) for v in found
    )
    if not found or not ok:
        raise ProtocolError(f"{context}: results.docs/images is not a list of {{id}} objects")
    return [d["id"] for listed in found for d in listed]


def flat_institutions(record: dict[str, Any]) -> dict[str, Any]:
    """``institution_from_id``/``institution_to_id`` as ids when LAPOR! nests them.

    Some answers carry ``{"id": 1001, "name": "…"}`` where others carry ``1001``; the
    name fills ``institution_…_name`` when that is absent, so the mapping reads both.
    """
    flat = dict(record)
    for side in ("from", "to"):
        value = flat.get(f"institution_{side}_id")
        if isinstance(value, dict):
            flat[f"institution_{side}_id"] = value.get("id")
            flat.setdefault(f"institution_{side}_name", value.get("name"))
    return flat
