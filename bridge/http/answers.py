"""What a 2xx answer says beyond its status: a failure envelope, or an id naming nothing.

Both look like success at the HTTP level and are not: taking them as success lost one
complaint and jammed others. ``raise_for_envelope`` raises the error the envelope's own
status stands for (``bridge.http.status.raise_for_status``); ``created_id`` refuses an id that
names no record, so the create stays unconfirmed and the engine looks it up by reference.
"""

from __future__ import annotations

from typing import Any

import httpx

from bridge.errors import ProtocolError
from bridge.http.body import parse_json
from bridge.http.status import raise_for_status, server_message, truncate

_FAILED = frozenset({"false", "error", "failed", "fail"})


def raise_for_envelope(
    response: httpx.Response, *, context: str, auth_hint: str = "the connector's secrets"
) -> None:
    """For a 2xx whose JSON envelope says it failed, raise what its status would mean.

    A failure is ``success`` or ``status`` false (or "error"/"failed"); its ``code`` or
    ``status_code`` (an HTTP status) classifies it, like ``raise_for_status``; without
    one it is a ``ProtocolError``: never taken as success.
    """
    try:
        body = parse_json(response.content)
    except ValueError:
        return  # not an envelope; the caller's own parsing says what is wrong
    if not isinstance(body, dict):
        return
    flag = body.get("success", body.get("status"))
    if not (flag is False or (isinstance(flag, str) and flag.strip().lower() in _FAILED)):
        return
    code = body.get("code", body.get("status_code"))
    code = int(code) if isinstance(code, int | str) and str(code).isdigit() else 0
    if 400 <= code < 600:
        stand_in = httpx.Response(code, content=response.content, headers=response.headers)
        raise_for_status(
            stand_in, context=f"{context} (an HTTP 200 saying {code})", auth_hint=auth_hint
        )
    message = server_message(response) or "no message"
    raise ProtocolError(f"{context}: HTTP 200 but the answer says it failed: {message}")


def created_id(value: Any, *, context: str, where: str) -> str:
    """A create's answered id as text; ProtocolError for one that names no record.

    ``None``, ``""``, ``0``, ``false`` or a list/object mean the server did not say what
    it made: never success. The route stops and the intent stays unconfirmed, so the
    next cycle looks the record up by its reference instead of creating it again.
    """
    usable = isinstance(value, str | int) and not isinstance(value, bool)
    text = str(value).strip() if usable else ""
    if text in ("", "0", "null", "None", "false"):
        raise ProtocolError(
            f"{context}: the answer's id at {where} is {truncate(repr(value), 40)}, not a "
            "record id; the next cycle looks the record up by its reference"
        )
    return text
