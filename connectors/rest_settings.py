"""The settings of a ``rest`` connector, and what they must say together.

``RestSettings`` is what the configuration may set (every key documented on the
class); ``problems`` finds the keys that only work together; ``static_auth`` turns
the auth styles that need no login into headers.
"""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import Field, SecretStr

from bridge.http.connector import HttpApiSettings

AuthKind = Literal["none", "login", "bearer", "basic", "api_key"]

# Which secrets each auth style needs (validated at construction, all reported at once).
REQUIRED_SECRETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "login": ("username", "password"),
    "bearer": ("token",),
    "basic": ("username", "password"),
    "api_key": ("api_key",),
}


class RestSettings(HttpApiSettings):
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


def static_auth(settings: RestSettings) -> dict[str, str]:
    """Headers for the auth styles that need no login."""
    if settings.auth == "bearer" and settings.token is not None:
        return {"Authorization": f"Bearer {settings.token.get_secret_value()}"}
    if settings.auth == "basic" and settings.username and settings.password:
        pair = f"{settings.username.get_secret_value()}:{settings.password.get_secret_value()}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode("ascii")}
    if settings.auth == "api_key" and settings.api_key is not None:
        return {settings.api_key_header: settings.api_key.get_secret_value()}
    return {}


def problems(name: str, s: RestSettings) -> list[str]:
    """Every inconsistency in the settings, each with its key path and fix."""
    key = f"connectors.{name}"
    problems = [
        f"{key}.{secret} is required when auth = {s.auth!r}"
        for secret in REQUIRED_SECRETS[s.auth]
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
