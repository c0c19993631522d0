"""The Open311 simulator's XML format: the standard's required one, JSON being optional.

``install_xml`` serves every ``….xml`` route as its ``….json`` twin turned into the
standard's XML (``<service_requests><request>…``, ``<errors><error>…``), and with
``json=False`` refuses ``….json`` with 404, as an XML-only server does. With
``django=True`` it writes XML as the Helsinki region's Django server does: requests under
``<requests>``, and a refusal as ``<requests><code>400</code><detail><request>…``.

Like a server that negotiates (Django REST framework), a ``….xml`` asked with an
``Accept`` that admits no XML (``application/json`` alone) is refused with 406.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi import FastAPI, Request, Response

_ELEMENTS = {
    "servicerequestupdates": ("service_request_updates", "request_update"),
    "services": ("services", "service"),
}
"""Root and item elements by the route's first name; everything else is a request list."""


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(SubElement(parent, str(key)), inner)
    elif value is not None:
        parent.text = str(value).lower() if isinstance(value, bool) else str(value)


def _django_refusal(body: dict[str, Any]) -> bytes:
    """``{"code", "detail"}`` as the Django server writes it: each message a ``<request>``."""
    root = Element("requests")
    SubElement(root, "code").text = str(body.get("code"))
    detail = SubElement(root, "detail")
    messages = body.get("detail")
    if isinstance(messages, list):
        for message in messages:
            SubElement(detail, "request").text = str(message)
    else:
        detail.text = str(messages)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(root)


def to_xml(path: str, status: int, body: Any, *, django: bool = False) -> bytes:
    """A JSON answer of ``path`` as the standard's XML (or the Django server's)."""
    if django and isinstance(body, dict) and "detail" in body:
        return _django_refusal(body)
    first = path.rsplit("/v2/", 1)[-1].split("/", 1)[0].split(".", 1)[0]
    requests_root = "requests" if django else "service_requests"
    root_name, item_name = _ELEMENTS.get(first, (requests_root, "request"))
    if status >= 400:
        root_name, item_name = "errors", "error"
    root = Element(root_name)
    for item in body if isinstance(body, list) else [body]:
        _fill(SubElement(root, item_name), item)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(root)


Next = Callable[[Request], Awaitable[Response]]


def _admits_xml(accept: str) -> bool:
    """Whether an ``Accept`` header lets the server answer XML (none given admits all)."""
    kinds = [part.split(";", 1)[0].strip() for part in accept.split(",")]
    return not accept.strip() or any(
        k in ("*/*", "application/*", "text/*") or "xml" in k for k in kinds
    )


def install_xml(app: FastAPI, *, prefix: str, json: bool = True, django: bool = False) -> None:
    """Serve ``prefix/….xml`` from the JSON routes; without ``json``, refuse ``….json``."""

    @app.middleware("http")
    async def xml_format(request: Request, call_next: Next) -> Response:
        path = request.scope["path"]
        if not path.startswith(prefix):
            return await call_next(request)
        if path.endswith(".json") and not json:
            body = to_xml(path, 404, [{"code": 404, "description": "format not supported"}])
            return Response(body, status_code=404, media_type="text/xml")
        if not path.endswith(".xml"):
            return await call_next(request)
        if not _admits_xml(request.headers.get("accept", "")):
            return Response("Could not satisfy the request Accept header.", status_code=406)
        request.scope["path"] = path.removesuffix(".xml") + ".json"
        answer = await call_next(request)
        raw = b"".join([chunk async for chunk in answer.body_iterator])  # type: ignore[attr-defined]
        # The paging headers name the JSON twin the route was served as: name the XML one.
        headers = {
            k: v.replace(".json", ".xml")
            for k, v in answer.headers.items()
            if k.lower().startswith("x-")
        }
        return Response(
            to_xml(path, answer.status_code, _loads(raw), django=django),
            status_code=answer.status_code,
            headers=headers,
            media_type="text/xml",
        )


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return [{"description": raw.decode(errors="replace")}]
