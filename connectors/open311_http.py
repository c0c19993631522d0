"""One call to a GeoReport v2 server: JSON or XML, its refusals read, its api_key kept safe.

The base of ``Open311Connector``: what every request needs, whatever it asks. With
``format = "auto"`` the first answer decides the format: a server refusing ``….json``
(``_NOT_JSON``) is asked the same in XML once, and XML is kept from then on.
"""

from __future__ import annotations

import httpx
import structlog

from bridge.connector import NativeRecord
from bridge.errors import AuthError, ProtocolError, ReadRefused, RemoteRejected
from bridge.http.body import BoundedClient
from bridge.http.connector import HttpConnector
from bridge.http.retry import RequestFn

from .open311_pages import Page, read_page
from .open311_settings import Open311Settings
from .open311_wire import form_fields, list_of_objects, refusal
from .open311_xml import as_xml, body_of

log = structlog.get_logger("connectors.open311")

_NOT_JSON = (400, 404, 406, 415)
"""What a server without JSON answers ``….json`` with; ``format = "auto"`` then tries XML."""


def accept(path: str) -> dict[str, str]:
    """The ``Accept`` header a ``….xml`` path needs: a server that negotiates (Django REST
    framework) answers 406 to ``….xml`` asked with our default ``Accept: application/json``."""
    if httpx.URL(path).path.endswith(".xml"):
        return {"Accept": "application/xml, text/xml;q=0.9"}
    return {}


class Open311Http(HttpConnector[Open311Settings]):
    """GET and POST to the server, each answer checked and parsed into a list of objects."""

    _format: str | None = None
    """``json`` or ``xml`` once known; with ``auto``, the first answer read decides."""

    def _params(self) -> dict[str, str]:
        jurisdiction = self.options.jurisdiction_id
        return {} if jurisdiction is None else {"jurisdiction_id": jurisdiction}

    def _refused_listing(self, exc: RemoteRejected, path: str) -> ReadRefused:
        return super()._refused(exc, path, ("base_url", "jurisdiction_id"))

    def _read(self, what: str, path: str, params: dict[str, str]) -> list[NativeRecord]:
        return self._read_page(what, path, params).records

    def _read_page(self, what: str, path: str, params: dict[str, str] | None) -> Page:
        """One answer; ``params`` None keeps the query of ``path`` (a server's next link)."""
        context = f"{self.name}: {what}"
        path = as_xml(path) if self._format == "xml" else path
        try:
            response = self._get(context, path, params)
        except RemoteRejected as exc:
            if self._format is not None or exc.status_code not in _NOT_JSON:
                raise
            # format = "auto", nothing read yet: a server that only speaks the standard's
            # required XML refuses `.json`; ask the same in XML once before giving up.
            try:
                response = self._get(context, as_xml(path), params)
            except RemoteRejected:
                raise exc from None
            self._format = "xml"
            log.info("open311.format.xml", connector=self.name)
        self._format = self._format or "json"
        page = read_page(response, body_of(response, context))
        if page is None:
            raise ProtocolError(f"{context}: expected a list of objects")
        return page

    def _path(self, name: str) -> str:
        return f"{name}.{self._format or 'json'}"

    def _get(self, context: str, path: str, params: dict[str, str] | None) -> httpx.Response:
        headers = accept(path)
        return self._call(
            context, lambda c: c.get(path, params=params, headers=headers), write=False
        )

    def _write(self, what: str, path: str, form: NativeRecord) -> list[NativeRecord]:
        """POST a form once: a lost answer may hide a write that happened."""
        data = {**form_fields(form), **self._params()}
        key = self.options.api_key
        if key is None:
            raise AuthError(
                f"{self.name}: {what} needs the api_key secret; set it for connector {self.name!r}"
            )
        data["api_key"] = key.get_secret_value()
        context = f"{self.name}: {what}"
        headers = accept(path)
        response = self._call(
            context, lambda c: c.post(path, data=data, headers=headers), write=True
        )
        body = list_of_objects(body_of(response, context))
        if body is None:
            raise ProtocolError(f"{context}: expected a list of objects")
        return body

    def _call(self, context: str, request_fn: RequestFn, *, write: bool) -> httpx.Response:
        def checked(client: BoundedClient) -> httpx.Response:
            response = request_fn(client)
            key = self.options.api_key
            secrets = [key.get_secret_value()] if key else []
            error = refusal(response, context, secrets=secrets, auth_hint=self._auth_hint)
            if error is not None:
                raise error
            return response

        return self._send(checked, context, idempotent=not write)
