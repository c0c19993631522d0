"""GeoReport v2's XML format, read into the same records as its JSON (pure, no I/O).

The standard requires XML and makes JSON optional, so some servers answer only
``requests.xml``. Every answer is a root element holding one element per object
(``<service_requests><request>…</request></service_requests>``, ``<errors><error>…``,
``<service_request_updates><request_update>…``); each child of an object is a field whose
text is its value, an empty one is None, and one with children of its own is an object
(``<attributes>``). Parsed with defusedxml: a server's answer is never trusted to be free
of entity bombs or external entities.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeTree
import httpx
from defusedxml import DefusedXmlException

from bridge.errors import ProtocolError
from bridge.http.status import json_body

ROOTS = frozenset(
    {
        "service_requests",
        "service_request_updates",
        "errors",
        "services",
        "service_definition",
        "requests",
    }
)
"""The root elements of GeoReport v2 answers (the updates extension's included).

``requests`` is the Django server of the Helsinki region (6aika/issue-reporting): its
request listings, single requests and refusals all have that root."""
ERROR_FIELDS = frozenset({"code", "detail"})
"""A root holding these directly is one refusal, not a list: the Django server's
``<requests><code>400</code><detail><request>Invalid API key</request></detail></requests>``."""


def looks_like_xml(content: bytes, content_type: str) -> bool:
    """Whether an answer is XML: by its Content-Type, else by its first character."""
    if "xml" in content_type.lower():
        return True
    return content.lstrip()[:1] == b"<"


def _value(element: Element) -> Any:
    children = list(element)
    if children:
        return {child.tag: _value(child) for child in children}
    text = (element.text or "").strip()
    return text or None


_UNNAMED = frozenset({"request", "list-item", "non_field_errors"})
"""Elements that hold a message without naming a field (Django REST framework's items)."""


def _messages(element: Element) -> list[str]:
    """The texts under ``element``, each led by the field it is about, if any."""
    if not len(element):
        text = (element.text or "").strip()
        return [text] if text else []
    return [
        text if child.tag in _UNNAMED else f"{child.tag}: {text}"
        for child in element
        for text in _messages(child)
    ]


def _refusal(root: Element) -> dict[str, Any]:
    """A refusal document as one error object, each field a list of its messages."""
    return {child.tag: _messages(child) for child in root}


def parse_xml(content: bytes, context: str) -> list[dict[str, Any]]:
    """The objects of an XML answer, each a dict of its fields; ProtocolError if unreadable."""
    try:
        root = SafeTree.fromstring(content)
    except (SafeTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise ProtocolError(f"{context}: the server's XML cannot be read: {exc}") from None
    if root.tag not in ROOTS:  # an HTML error page of a proxy, say: not an answer at all
        raise ProtocolError(
            f"{context}: the server's answer is not GeoReport v2 XML (its root is <{root.tag}>)"
        )
    if any(child.tag in ERROR_FIELDS for child in root):
        return [_refusal(root)]
    objects = []
    for item in root:
        value = _value(item)
        objects.append(value if isinstance(value, dict) else {})
    return objects


def body_of(response: httpx.Response, context: str) -> Any:
    """An answer's parsed body, XML or JSON, whichever it is."""
    if looks_like_xml(response.content, response.headers.get("Content-Type", "")):
        return parse_xml(response.content, context)
    return json_body(response, context=context)


def as_xml(path: str) -> str:
    """A ``….json`` path of the API as its ``….xml`` twin (other paths unchanged)."""
    return path.removesuffix(".json") + ".xml" if path.endswith(".json") else path
