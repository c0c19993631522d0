"""A generic JSON REST connector, configured entirely by settings.

A local door whose API is "log in, list pages, fetch a detail, post a form" needs
no code of its own: SIDUMAS (DOMAIN.md §3) is this connector plus settings. Paths
into JSON answers are dotted (``data.data``, ``data.last_page``); an empty path
means the whole body.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import structlog

from bridge.connector import NativeRecord
from bridge.errors import AuthError, ProtocolError, ReadRefused, RecordInvalid, RemoteRejected
from bridge.http import answers
from bridge.http.body import unusable_header
from bridge.http.connector import HttpConnector
from bridge.http.retry import RequestFn
from bridge.http.status import json_body, truncate
from bridge.model import Attachment
from bridge.privacy import register_secret

from .rest_pages import dig, has_token, pages
from .rest_settings import REQUIRED_SECRETS, RestSettings, problems, static_auth

log = structlog.get_logger(__name__)

ATTACHMENT_PREFIXES = ("files/", "/storage/", "/uploads/")
"""Where a door's files are fetched with its credentials unless configured: never its API."""
# What to check when the listing is refused (a 404 is usually a wrong path).
_LIST_KEYS = ("base_url", "list_path", "list_params")


class RestConnector(HttpConnector[RestSettings]):
    """Any JSON REST API described by ``RestSettings``."""

    type = "rest"
    attachment_prefixes = ATTACHMENT_PREFIXES

    def configure(self) -> None:
        self._logged_in = False
        # Capabilities follow from the settings, so they are set per instance here.
        o = self.options
        self.change_feed = "cursor" if o.since_param else "scan"
        self.can_create = o.create_path is not None
        self.can_find_by_ref = o.ref_field is not None
        self.supports_followups = o.followups_path is not None and o.add_followup_path is not None
        self.can_write_status = o.status_path is not None

    def problems(self) -> list[str]:
        return problems(self.name, self.options)

    def auth_headers(self) -> dict[str, str]:
        return static_auth(self.options)

    def auth_hint(self) -> str:
        needed = " and ".join(REQUIRED_SECRETS[self.options.auth]) or "the auth settings"
        return f"{needed} of connector {self.name!r}"

    def _prepare(self) -> None:
        self._ensure_login()

    # -- reading ---------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        params = dict(self.options.list_params)
        if since is not None and self.options.since_param:
            if since.utcoffset() is None:
                raise ValueError("`since` must be timezone-aware")
            params[self.options.since_param] = since.isoformat()
        for page in self._pages(params):
            # The details of a page are read up to max_concurrency at once, in order.
            yield self._each(self._detail_of, page) if self.options.fetch_detail else page

    def get(self, record_id: str) -> NativeRecord | None:
        if not self.options.detail_path:
            return self._scan_for(record_id)
        path, params = self._detail_request(record_id)
        try:
            body = self._read("get detail", path, params, ("base_url", "detail_path"))
        except ReadRefused as exc:
            if exc.status_code == 404:
                return None
            raise
        record = dig(body, self.options.detail_records_path, default=None)
        if record is None:
            return None
        if not isinstance(record, dict):
            raise ProtocolError(
                f"{self.name}: detail at {self.options.detail_records_path!r} is not an object"
            )
        return record

    def find_by_ref(self, ref: str) -> str | None:
        o, field = self.options, self.options.ref_field
        if field is None:
            raise NotImplementedError(f"connector {self.name!r} has no ref_field configured")
        params = dict(o.list_params)
        if o.search_param:
            params[o.search_param] = ref
        for page in self._pages(params, keys=("base_url", "list_path", "search_param")):
            for record in page:
                # Listings often leave fields out; the detail is the authority.
                full = record if field in record or not o.detail_path else self._detail_of(record)
                if has_token(full.get(field), ref):
                    return str(full[o.id_field])
        return None

    # -- writing ---------------------------------------------------------------

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        path = self.options.create_path
        if path is None:
            raise NotImplementedError(f"connector {self.name!r} has no create_path configured")
        payload = dict(record)
        if self.options.ref_field:
            payload[self.options.ref_field] = ref
        if self.options.attachments_field:
            payload[self.options.attachments_field] = [a.url for a in attachments if a.url]
        body = self._post("create", path, payload, self.options.create_format)
        new_id = answers.created_id(
            dig(body, self.options.created_id_path, default=None),
            context=f"{self.name}: create",
            where=f"created_id_path {self.options.created_id_path!r}",
        )
        log.info("rest.record.created", connector=self.name, record_id=new_id)
        return new_id

    def followups(self, record_id: str) -> list[NativeRecord]:
        o = self.options
        path = o.followups_path
        if path is None:
            raise NotImplementedError(f"connector {self.name!r} has no followups_path configured")
        params = {o.followups_id_param: record_id}
        body = self._call("list follow-ups", lambda c: c.get(path, params=params))
        found = dig(body, o.followups_records_path, default=None)
        if not isinstance(found, list) or not all(isinstance(f, dict) for f in found):
            raise ProtocolError(
                f"{self.name}: no list of follow-ups at followups_records_path "
                f"{o.followups_records_path!r}"
            )
        return found

    def add_followup(
        self, record_id: str, followup: NativeRecord, attachments: Sequence[Attachment]
    ) -> str | None:
        """Post a follow-up; never retried (a lost answer may hide a posted follow-up)."""
        o = self.options
        if o.add_followup_path is None:
            raise NotImplementedError(
                f"connector {self.name!r} has no add_followup_path configured"
            )
        payload = {**followup, o.add_followup_id_field: record_id}
        if o.followup_attachments_field:
            payload[o.followup_attachments_field] = [a.url for a in attachments if a.url]
        body = self._post("add follow-up", o.add_followup_path, payload, o.add_followup_format)
        new_id = dig(body, o.added_followup_id_path, default=None)
        log.info("rest.followup.added", connector=self.name, record_id=record_id)
        return None if new_id in (None, "") else str(new_id)

    def set_status(self, record_id: str, fields: NativeRecord) -> None:
        o = self.options
        if o.status_path is None:
            raise NotImplementedError(f"connector {self.name!r} has no status_path configured")
        payload = {**fields, o.status_id_field: record_id}
        self._post("set status", o.status_path, payload, o.status_format)
        log.info("rest.status.written", connector=self.name, record_id=record_id)

    def _post(self, what: str, path: str, payload: NativeRecord, form: str) -> Any:
        """POST a write once (writes are not idempotent) as JSON or a form."""
        as_json = form == "json"
        return self._call(
            what,
            lambda c: c.post(path, json=payload) if as_json else c.post(path, data=payload),
            idempotent=False,
        )

    # -- internals: listing ----------------------------------------------------

    def _pages(
        self, params: dict[str, str], *, keys: Sequence[str] = _LIST_KEYS
    ) -> Iterator[list[NativeRecord]]:
        """The listing's pages; a refused one is ``ReadRefused`` naming ``keys``."""
        yield from pages(self.options, self.name, params, lambda q: self._fetch_list(q, keys))

    def _fetch_list(self, query: dict[str, str], keys: Sequence[str]) -> Any:
        return self._read("list", self.options.list_path, query, keys)

    def _read(self, what: str, path: str, query: dict[str, str], keys: Sequence[str]) -> Any:
        """GET a listing or a detail; a refusal stops the route, naming the ``keys`` to check."""
        try:
            return self._call(what, lambda c: c.get(path, params=query))
        except RemoteRejected as exc:
            raise self._refused(exc, path, keys) from None

    def _scan_for(self, record_id: str) -> NativeRecord | None:
        for page in self._pages(dict(self.options.list_params)):
            for record in page:
                if str(record.get(self.options.id_field)) == record_id:
                    return record
        return None

    def _detail_of(self, record: NativeRecord) -> NativeRecord:
        record_id = record.get(self.options.id_field)
        if record_id is None:
            raise RecordInvalid("listed record has no id", field=self.options.id_field)
        detail = self.get(str(record_id))
        if detail is None:
            raise ProtocolError(f"{self.name}: a listed record has no detail")
        return detail

    def _detail_request(self, record_id: str) -> tuple[str, dict[str, str]]:
        o = self.options
        assert o.detail_path is not None
        if "{id}" in o.detail_path:
            return o.detail_path.replace("{id}", quote(record_id, safe="")), {}
        assert o.detail_id_param is not None  # checked at construction
        return o.detail_path, {o.detail_id_param: record_id}

    # -- internals: one call ---------------------------------------------------

    def _call(
        self,
        what: str,
        request_fn: RequestFn,
        *,
        idempotent: bool = True,
    ) -> Any:
        """Send with auth (logging in again once on a 401) and unwrap the JSON envelope."""
        context = f"{self.name}: {what}"
        self._ensure_login()
        try:
            response = self._send(request_fn, context, idempotent=idempotent)
        except AuthError:
            if self.options.auth != "login":
                raise
            log.info("rest.login.expired", connector=self.name)
            self._login()
            response = self._send(request_fn, context, idempotent=idempotent)
        body = json_body(response, context=context)
        self._check_success(body, context, is_write=not idempotent)
        return body

    def _check_success(self, body: Any, context: str, *, is_write: bool) -> None:
        """A ``success: false`` answer is a refusal even with HTTP 200.

        For a write it is the record that was refused (set it aside); for a read the
        route cannot go on.
        """
        path = self.options.success_path
        if path is None or dig(body, path, default=None) is True:
            return
        message = dig(body, self.options.message_path, default=None) or "no message"
        text = f"{context}: {path} is not true: {truncate(str(message))}"
        if is_write:
            raise RemoteRejected(text)
        raise ProtocolError(text)

    def _ensure_login(self) -> None:
        if self.options.auth == "login" and not self._logged_in:
            self._login()

    def _login(self) -> None:
        o = self.options
        assert o.username is not None  # checked at construction
        assert o.password is not None
        context = f"{self.name}: login"
        credentials = {
            o.login_username_field: o.username.get_secret_value(),
            o.login_password_field: o.password.get_secret_value(),
        }
        as_json = o.login_format == "json"
        self._client.headers.pop("Authorization", None)
        try:
            response = self._send(
                lambda c: (
                    c.post(o.login_path, json=credentials)
                    if as_json
                    else c.post(o.login_path, data=credentials)
                ),
                context,
                idempotent=True,  # logging in twice creates nothing
            )
        except RemoteRejected as exc:
            raise AuthError(f"{exc.reason}; check {self._auth_hint}") from None
        token = dig(json_body(response, context=context), o.token_path, default=None)
        if isinstance(token, str):
            # Masked from here on, before a refusal that quotes it can reach a log or the ledger.
            register_secret(token)
        if not isinstance(token, str) or not token:
            raise ProtocolError(f"{context}: no token at token_path {o.token_path!r}")
        if unusable_header(token):
            raise ProtocolError(
                f"{context}: the token at token_path {o.token_path!r} holds characters a "
                "header cannot carry (only printable ASCII); check token_path and the server"
            )
        self._client.headers["Authorization"] = f"Bearer {token}"
        self._logged_in = True
        log.info("rest.login.succeeded", connector=self.name)
