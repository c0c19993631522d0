"""Pure helpers of the Open311 connector: time windows, the ref trailer, error lists.

Nothing here does I/O, so each rule is tested on its own:

- ``windows`` cuts [start, end] into steps of whole seconds, the resolution GeoReport v2
  servers keep; ``halves`` splits a window whose listing hit the server's cap.
- ``unseen_requests`` drops what a neighbouring window listed already; ``followups_of``
  picks one request's follow-ups out of listed updates.
- ``with_ref`` / ``split_ref`` put the bridge's reference on the last line of a
  description as ``[ref: lb…]`` and take it off again (Open311 has no field for it).
- ``refusal`` turns a 4xx answer into the error it means, with the description of the
  standard's error list ``[{"code", "description"}]`` and any secret scrubbed out, since
  servers may echo the form they refused; ``form_fields`` flattens a POST form.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bridge.errors import AuthError, BridgeError, ProtocolError, RemoteRejected
from bridge.http.body import parse_json
from bridge.http.status import truncate
from bridge.model import REF_TEXT

from .open311_xml import looks_like_xml, parse_xml

ONE_SECOND = timedelta(seconds=1)
REF_KEY = "bridge_ref"
"""The native key under which the connector shows the ref it found in a description."""

_TRAILER = re.compile(rf"\s*\[ref: ({REF_TEXT})\]\s*\Z")
_REDACTED = "[redacted]"
_API_KEY = re.compile(r"api[ _-]?key", re.IGNORECASE)
_REFUSED = re.compile(r"invalid|not valid|wrong|incorrect|unknown|missing|required", re.IGNORECASE)


# -- time windows --------------------------------------------------------------------------
def floor_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def ceil_second(moment: datetime) -> datetime:
    floored = floor_second(moment)
    return floored if floored == moment else floored + ONE_SECOND


def windows(start: datetime, end: datetime, step: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive windows from ``start`` to ``end``, each at most ``step`` wide.

    Neighbours share their boundary second: a server that treats ``end_date`` as
    exclusive still lists a record updated exactly then, and the caller drops the
    copy an inclusive server lists twice.
    """
    low, end = floor_second(start), ceil_second(end)
    while low < end:
        high = min(low + step, end)
        yield low, high
        low = high


def halves(low: datetime, high: datetime) -> tuple[tuple[datetime, datetime], ...]:
    """Two windows covering [low, high]; empty when it cannot be split below one second."""
    if high - low <= ONE_SECOND:
        return ()
    middle = floor_second(low + (high - low) / 2)
    return ((low, middle), (middle, high))


def wire_time(moment: datetime) -> str:
    """How a window bound is sent: UTC, whole seconds, ``Z`` (no ``+`` to escape in a query)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """An aware time from an ISO-8601 answer; None when absent, unreadable or without offset."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


def by_time(records: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Oldest first by ``key``; unreadable times last, the server's order kept among equals."""
    latest = datetime.max.replace(tzinfo=UTC)
    return sorted(records, key=lambda r: parse_time(r.get(key)) or latest)


def unseen_requests(
    page: Iterable[dict[str, Any]], seen: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The requests of ``page`` not listed before (``seen`` is updated), oldest change first.

    Neighbouring windows share a second: what the previous one listed is dropped.
    """
    fresh = []
    for record in by_time(page, "updated_datetime"):
        key = page_key(record)
        if key not in seen:
            seen.add(key)
            fresh.append(split_ref(record))
    return fresh


def page_key(record: dict[str, Any]) -> tuple[str, str]:
    """What tells two listed records apart: the id and the change time (or an update's id)."""
    own = record.get("update_id", record.get("service_request_id"))
    return str(own), str(record.get("updated_datetime"))


def followups_of(record_id: str, pages: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The follow-ups of one request among listed updates, each once, oldest first.

    Only that request's updates count (a server may ignore the filter), and an update
    with no description is a bare status change, not a follow-up. Each is shown with
    ``id`` = its ``update_id``.
    """
    found: dict[str, dict[str, Any]] = {}
    for page in pages:
        for update in page:
            if str(update.get("service_request_id")) != record_id:
                continue
            if str(update.get("description") or "").strip():
                update_id = str(update.get("update_id"))
                found.setdefault(update_id, {**update, "id": update_id})
    return by_time(found.values(), "updated_datetime")


STATUS_NOTES_ID = "status_notes:"
"""How a follow-up made of a request's ``status_notes`` is told from a real update."""


def status_answer(request: dict[str, Any]) -> dict[str, Any] | None:
    """The request's ``status_notes`` (the city's answer) as a follow-up; None when empty.

    Its id is made from the text, so the same answer is the same follow-up on every read,
    and an edited answer is a new one.
    """
    notes = request.get("status_notes")
    if not isinstance(notes, str) or not notes.strip():
        return None
    digest = hashlib.sha256(notes.strip().encode()).hexdigest()[:16]
    update_id = f"{STATUS_NOTES_ID}{digest}"
    return {
        "update_id": update_id,
        "id": update_id,
        "service_request_id": str(request.get("service_request_id")),
        "status": request.get("status"),
        "description": notes.strip(),
        "updated_datetime": request.get("updated_datetime"),
    }


def with_answer(notes: list[dict[str, Any]], answer: dict[str, Any] | None) -> list[dict[str, Any]]:
    """``notes`` and the city's answer, unless an update says the same (a server copies the
    last update's text into ``status_notes``: that is one follow-up, not two)."""
    if answer is None:
        return notes
    said = {str(n.get("description") or "").strip() for n in notes}
    return notes if answer["description"] in said else by_time([*notes, answer], "updated_datetime")


# -- the reference trailer -----------------------------------------------------------------
def with_ref(description: Any, ref: str) -> str:
    """The description with the bridge's reference as its last line."""
    text = "" if description is None else str(description).rstrip()
    return f"{text}\n\n[ref: {ref}]" if text else f"[ref: {ref}]"


def split_ref(record: dict[str, Any]) -> dict[str, Any]:
    """The record with a ``[ref: …]`` last line moved from ``description`` to ``bridge_ref``.

    The description then reads as the complainant wrote it, so content round-trips.
    """
    description = record.get("description")
    if not isinstance(description, str):
        return record
    found = _TRAILER.search(description)
    if found is None:
        return record
    return {**record, "description": description[: found.start()], REF_KEY: found.group(1)}


# -- answers -------------------------------------------------------------------------------
def _texts(value: Any) -> list[str]:
    """Every message in a ``detail``: a string, a list of them, or Django REST framework's
    field errors ``{"non_field_errors": [...], "service_code": [...]}`` (fields named)."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return [str(value).strip()] if str(value).strip() else []
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [
            text if key == "non_field_errors" else f"{key}: {text}"
            for key, item in value.items()
            for text in _texts(item)
        ]
    return []


def _error_text(item: Any) -> str:
    """One error's text: the standard's ``description``, or the common ``detail``/``message``."""
    if isinstance(item, str):
        return item.strip()
    if not isinstance(item, dict):
        return ""
    for key in ("description", "detail", "message"):
        if texts := _texts(item.get(key)):
            return "; ".join(texts)
    return ""


def error_description(response: httpx.Response, secrets: Iterable[str]) -> str:
    """The error list's descriptions, truncated, secrets replaced; the reason phrase otherwise.

    Only ``description`` (or ``detail``, ``message``, a bare string) is read: the rest of a
    body may echo personal data. The standard's list, one object and a list of strings all
    occur on real servers.
    """
    try:
        if looks_like_xml(response.content, response.headers.get("Content-Type", "")):
            body = parse_xml(response.content, "error")  # <errors><error><description>
        else:
            body = parse_json(response.content)
    except (ValueError, ProtocolError):  # not JSON or XML, not UTF-8, nested too deep
        body = None
    items = body if isinstance(body, list) else [body]
    texts = [text for item in items if (text := _error_text(item))]
    text = "; ".join(texts) or response.reason_phrase or "no description"
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return truncate(text)


def key_refused(text: str) -> bool:
    """Whether a 400's text says the api key is missing or wrong ("Invalid api_key")."""
    return bool(_API_KEY.search(text) and _REFUSED.search(text))


def refusal(
    response: httpx.Response, context: str, *, secrets: Iterable[str], auth_hint: str
) -> BridgeError | None:
    """The error a refused call means, with the server's description; None otherwise.

    Only 4xx answers are read here; 408, 425, 429 and 5xx are left to the shared policy
    (``bridge.http.retry``), which retries them. 401/403, and a 400 whose text names the
    api key, stop the route (``AuthError``); another 4xx refuses.
    """
    status = response.status_code
    if not 400 <= status < 500 or status in (408, 425, 429):
        return None
    text = error_description(response, secrets)
    # Real servers refuse a wrong key with 400 as often as 401/403; it is the same fix.
    if status in (401, 403) or (status == 400 and key_refused(text)):
        return AuthError(f"{context}: HTTP {status}: {text}; check {auth_hint}")
    return RemoteRejected(f"{context}: HTTP {status}: {text}", status_code=status)


def form_fields(record: dict[str, Any]) -> dict[str, str]:
    """Form fields: None left out, an ``attribute`` table as ``attribute[code]`` fields."""
    form: dict[str, str] = {}
    for key, value in record.items():
        if value is None:
            continue
        if key == "attribute" and isinstance(value, dict):
            form.update({f"attribute[{k}]": str(v) for k, v in value.items() if v is not None})
        elif isinstance(value, bool):
            form[key] = "true" if value else "false"
        else:
            form[key] = str(value)
    return form


def request_id(value: Any, context: str) -> str | None:
    """A create's ``service_request_id`` as text, ``"0"`` included; None when absent or empty.

    GeoReport v2 ids are opaque strings: ``0`` is a valid id on a server that counts from
    zero, so only an absent or empty value means "no id"; a list or object is refused.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProtocolError(f"{context}: service_request_id is not an id: {type(value).__name__}")
    return str(value).strip() or None


def list_of_objects(body: Any) -> list[dict[str, Any]] | None:
    """``body`` when it is a list of objects (every GeoReport v2 answer is one), else None."""
    if isinstance(body, list) and all(isinstance(item, dict) for item in body):
        return body
    return None
