"""A generic JSON REST connector, configured entirely by settings.

A local door whose API is "log in, list pages, fetch a detail, post a form" needs
no code of its own: SIDUMAS (DOMAIN.md §3) is this connector plus settings. Paths
into JSON answers are dotted (``data.data``, ``data.last_page``); an empty path
means the whole body.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx
import structlog
from pydantic import Field, SecretStr

from bridge import answers, attachments, http
from bridge.connector import Connector, ConnectorSettings, NativeRecord
from bridge.errors import (
    AuthError,
    ConfigError,
    ProtocolError,
    ReadRefused,
    RecordInvalid,
    RemoteRejected,
)
from bridge.http_body import unusable_header
from bridge.model import Attachment

log = structlog.get_logger(__name__)

AuthKind = Literal["none", "login", "bearer", "basic", "api_key"]
_MISSING = object()
_TOKEN_SPLIT = re.compile(r"[\s,;]+")
ATTACHMENT_PREFIXES = ("files/", "/storage/", "/uploads/")
"""Where a door's files are fetched with its credentials unless configured: never its API."""
# What to check when the listing is refused (a 404 is usually a wrong path).
_LIST_KEYS = ("base_url", "list_path", "list_params")

# Which secrets each auth style needs (validated at construction, all reported at once).
_REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "login": ("username", "password"),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("api_key",),
}


class RestSettings(http.HttpConnectorSettings):
    """Settings of a ``rest`` connector. Dotted paths point into JSON answers.

    Transport:
    - ``base_url``; ``timeout_seconds`` (read timeout); ``allow_insecure_http`` (plain
      http to a non-loopback host); ``verify_tls``; ``retry_attempts`` (reads only).

    Auth (``auth``: none | login | bearer | basic | api_key):
    - login: ``POST login_path`` with ``login_username_field``/``login_password_field``
      (as ``login_format`` json or form) from secrets ``username``/``password``; the
      token at ``token_path`` is sent as ``Authorization: Bearer <token>``; a 401 on a
      data call logs in again once and repeats the call.
    - bearer: secret ``token``. basic: secrets ``username``/``password``.
    - api_key: secret ``api_key`` in header ``api_key_header``.

    Listing:
    - ``list_path``, ``list_params`` (static query), ``records_path`` (the list).
    - ``pagination``: page | cursor | none. page: ``page_param``, ``first_page``,
      ``page_size`` + ``page_size_param`` (optional), ``last_page_path`` (optional; without
      it the listing ends at an empty or short page). cursor: ``cursor_param``,
      ``next_cursor_path`` (the listing ends when it is empty).
    - ``since_param``: when set, the change feed is "cursor" and ``pull(since)`` sends
      it as ISO-8601; otherwise every pull lists everything ("scan").
    - ``id_field``: the record id. ``success_path``: a boolean that must be true (its
      ``message_path`` explains a false one).
    - A refused listing (a 4xx such as 404) stops the route with ``ReadRefused``
      naming the path and these keys; so does a refused detail read, except a 404
      (that record is gone).

    Detail:
    - ``detail_path`` (may contain ``{id}``), or with ``detail_id_param`` as query;
      ``detail_records_path``; ``fetch_detail``: replace each listed record by its detail.

    Create:
    - ``create_path``, ``create_format`` (json | form), ``created_id_path``.
    - ``ref_field``: native field that carries the bridge's reference; enables
      ``find_by_ref``, which lists with ``search_param=<ref>`` (or everything without it).
    - ``attachments_field``: field that receives the attachments' URLs as a list.

    Follow-ups (both paths set: ``supports_followups``):
    - ``followups_path``: GET listing one record's follow-ups, oldest first, with the
      record id in query ``followups_id_param``; the list is at ``followups_records_path``.
      A record the server does not know raises ``RemoteRejected`` (its 404).
    - ``add_followup_path``: POST one follow-up (as ``add_followup_format`` json | form)
      with the record id in field ``add_followup_id_field``; the new follow-up's id is
      read at ``added_followup_id_path`` (None when absent);
      ``followup_attachments_field``: field that receives the attachments' URLs.

    Status (set: ``can_write_status``):
    - ``status_path``: POST the mapping's status fields (as ``status_format`` json |
      form) with the record id in field ``status_id_field``.
    """

    base_url: str
    page_size: int | None = None

    auth: AuthKind = "none"
    login_path: str = "login"
    login_format: Literal["json", "form"] = "json"
    login_username_field: str = "email"
    login_password_field: str = "password"  # noqa: S105 - a field name, not a password
    token_path: str = "token"  # noqa: S105 - a path into the answer, not a token
    username: SecretStr | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    api_key_header: str = "X-API-Key"
    api_key: SecretStr | None = None

    list_path: str
    list_params: dict[str, str] = Field(default_factory=dict)
    records_path: str = "data"
    pagination: Literal["page", "cursor", "none"] = "page"
    page_param: str = "page"
    first_page: int = 1
    page_size_param: str | None = None
    last_page_path: str | None = None
    cursor_param: str | None = None
    next_cursor_path: str | None = None
    since_param: str | None = None
    id_field: str = "id"
    success_path: str | None = None
    message_path: str = "message"

    detail_path: str | None = None
    detail_id_param: str | None = None
    detail_records_path: str = "data"
    fetch_detail: bool = False

    create_path: str | None = None
    create_format: Literal["json", "form"] = "json"
    created_id_path: str = "data.id"
    ref_field: str | None = None
    search_param: str | None = None
    attachments_field: str | None = None

    followups_path: str | None = None
    followups_id_param: str = "id"
    followups_records_path: str = "data"
    add_followup_path: str | None = None
    add_followup_format: Literal["json", "form"] = "json"
    add_followup_id_field: str = "id"
    added_followup_id_path: str = "data.id"
    followup_attachments_field: str | None = None

    status_path: str | None = None
    status_format: Literal["json", "form"] = "json"
    status_id_field: str = "id"


class RestConnector(Connector):
    """Any JSON REST API described by ``RestSettings``."""

    type = "rest"
    Settings = RestSettings

    def __init__(
        self,
        name: str,
        settings: ConnectorSettings,
        *,
        retry: http.RetrySettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(settings, RestSettings):
            settings = RestSettings.model_validate(settings.model_dump())
        super().__init__(name, settings)
        self.options: RestSettings = settings
        problems = _problems(name, settings)
        if problems:
            raise ConfigError(problems)
        self.http = settings.http_settings()
        self.retry = retry or settings.retry_settings()
        needed = " and ".join(_REQUIRED_SECRETS[settings.auth]) or "the auth settings"
        self._auth_hint = f"{needed} of connector {name!r}"
        self._client = http.make_client(
            settings.base_url, headers=_static_auth(settings), http=self.http, transport=transport
        )
        self._logged_in = False
        self._attachments = attachments.policy_of(name, settings, ATTACHMENT_PREFIXES)
        # Capabilities follow from the settings, so they are set per instance here.
        self.change_feed = "cursor" if settings.since_param else "scan"
        self.can_create = settings.create_path is not None
        self.can_find_by_ref = settings.ref_field is not None
        self.supports_followups = (
            settings.followups_path is not None and settings.add_followup_path is not None
        )
        self.can_write_status = settings.status_path is not None

    # -- reading ---------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        params = dict(self.options.list_params)
        if since is not None and self.options.since_param:
            if since.utcoffset() is None:
                raise ValueError("`since` must be timezone-aware")
            params[self.options.since_param] = since.isoformat()
        for page in self._pages(params):
            yield [self._detail_of(r) for r in page] if self.options.fetch_detail else page

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

    def download(self, attachment: Attachment) -> bytes:
        """The attachment's bytes; our credentials go only to base_url's own origin."""
        if attachment.content is not None:
            return attachment.content
        if not attachment.url:
            raise RecordInvalid(f"attachment {attachment.filename!r} has neither content nor url")
        self._ensure_login()
        return attachments.fetch(
            self._client,
            attachment.url,
            policy=self._attachments,
            http=self.http,
            retry=self.retry,
            context=f"{self.name}: download attachment",
        )

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

    def close(self) -> None:
        self._client.close()

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
        style = self.options.pagination
        if style == "none":
            page = self._records(self._fetch_list(params, keys))
            if page:
                yield page
            return
        if style == "cursor":
            yield from self._cursor_pages(params, keys)
        else:
            yield from self._numbered_pages(params, keys)

    def _numbered_pages(
        self, params: dict[str, str], keys: Sequence[str]
    ) -> Iterator[list[NativeRecord]]:
        o = self.options
        number, previous_ids = o.first_page, None
        while True:
            query = {**params, o.page_param: str(number)}
            if o.page_size and o.page_size_param:
                query[o.page_size_param] = str(o.page_size)
            body = self._fetch_list(query, keys)
            page = self._records(body)
            ids = [r.get(o.id_field) for r in page]
            if page and ids == previous_ids:
                # A server that ignores the page parameter would otherwise loop for ever.
                raise ProtocolError(f"{self.name}: page {number} repeats the previous page")
            if page:
                yield page
            if self._is_last_page(body, number, page):
                return
            number, previous_ids = number + 1, ids

    def _is_last_page(self, body: Any, number: int, page: list[NativeRecord]) -> bool:
        o = self.options
        if not page:
            return True
        if o.last_page_path:
            last = dig(body, o.last_page_path, default=None)
            try:
                return number >= int(last)
            except (TypeError, ValueError):
                raise ProtocolError(
                    f"{self.name}: no page number at last_page_path {o.last_page_path!r}"
                ) from None
        return o.page_size is not None and len(page) < o.page_size

    def _cursor_pages(
        self, params: dict[str, str], keys: Sequence[str]
    ) -> Iterator[list[NativeRecord]]:
        o = self.options
        assert o.cursor_param  # checked at construction
        assert o.next_cursor_path
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params) if cursor is None else {**params, o.cursor_param: cursor}
            if o.page_size and o.page_size_param:
                query[o.page_size_param] = str(o.page_size)
            body = self._fetch_list(query, keys)
            page = self._records(body)
            if page:
                yield page
            following = dig(body, o.next_cursor_path, default=None)
            if following in (None, ""):
                return
            cursor = str(following)
            if cursor in seen:
                raise ProtocolError(f"{self.name}: the listing cursor went back to an earlier one")
            seen.add(cursor)

    def _fetch_list(self, query: dict[str, str], keys: Sequence[str]) -> Any:
        return self._read("list", self.options.list_path, query, keys)

    def _read(self, what: str, path: str, query: dict[str, str], keys: Sequence[str]) -> Any:
        """GET a listing or a detail; a refusal stops the route, naming the ``keys`` to check."""
        try:
            return self._call(what, lambda c: c.get(path, params=query))
        except RemoteRejected as exc:
            raise http.refused_read(
                exc, self._client, path, connector=self.name, keys=keys
            ) from None

    def _records(self, body: Any) -> list[NativeRecord]:
        records = dig(body, self.options.records_path, default=None)
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ProtocolError(
                f"{self.name}: no list of records at records_path {self.options.records_path!r}"
            )
        return records

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
        request_fn: http.RequestFn,
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
        body = http.json_body(response, context=context)
        self._check_success(body, context, is_write=not idempotent)
        return body

    def _send(
        self, request_fn: http.RequestFn, context: str, *, idempotent: bool
    ) -> httpx.Response:
        return http.send(
            self._client,
            request_fn,
            self.retry,
            idempotent=idempotent,
            context=context,
            auth_hint=self._auth_hint,
            bounds=self.http.bounds(),
        )

    def _check_success(self, body: Any, context: str, *, is_write: bool) -> None:
        """A ``success: false`` answer is a refusal even with HTTP 200.

        For a write it is the record that was refused (set it aside); for a read the
        route cannot go on.
        """
        path = self.options.success_path
        if path is None or dig(body, path, default=None) is True:
            return
        message = dig(body, self.options.message_path, default=None) or "no message"
        text = f"{context}: {path} is not true: {http.truncate(str(message))}"
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
        token = dig(http.json_body(response, context=context), o.token_path, default=None)
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


def dig(body: Any, path: str, *, default: Any = _MISSING) -> Any:
    """The value at dotted ``path`` in ``body`` ("" is the body itself)."""
    value = body
    for key in filter(None, path.split(".")):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif default is _MISSING:
            raise KeyError(path)
        else:
            return default
    return value


def has_token(value: Any, ref: str) -> bool:
    """True when ``ref`` is one whole token (optionally ``#``-prefixed) of ``value``."""
    if value is None:
        return False
    items = value if isinstance(value, list) else _TOKEN_SPLIT.split(str(value))
    return any(str(item).strip().lstrip("#") == ref for item in items)


def _static_auth(settings: RestSettings) -> dict[str, str]:
    """Headers for the auth styles that need no login."""
    if settings.auth == "bearer" and settings.token is not None:
        return {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
    if settings.auth == "basic" and settings.username and settings.password:
        pair = f"{settings.username.get_secret_value()}:{settings.password.get_secret_value()}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}
    if settings.auth == "api_key" and settings.api_key is not None:
        return {settings.api_key_header: settings.api_key.get_secret_value()}
    return {}


def _problems(name: str, s: RestSettings) -> list[str]:
    """Every inconsistency in the settings, each with its key path and fix."""
    key = f"connectors.{name}"
    problems = [
        f"{key}.{secret} is required when auth = {s.auth!r}"
        for secret in _REQUIRED_SECRETS[s.auth]
        if getattr(s, secret) is None
    ]
    if s.pagination == "cursor" and not (s.cursor_param and s.next_cursor_path):
        problems.append(f"{key}: pagination = 'cursor' needs cursor_param and next_cursor_path")
    if s.detail_path and "{id}" not in s.detail_path and not s.detail_id_param:
        problems.append(f"{key}.detail_path needs an {{id}} placeholder or detail_id_param")
    if s.fetch_detail and not s.detail_path:
        problems.append(f"{key}.fetch_detail = true needs detail_path")
    if (s.followups_path is None) != (s.add_followup_path is None):
        problems.append(
            f"{key}: follow-ups need both followups_path (read) and add_followup_path (write)"
        )
    if s.page_size is not None and s.page_size < 1:
        problems.append(f"{key}.page_size must be at least 1")
    return problems
