"""The settings of a ``lapor`` connector (SP4N-LAPOR! v3, see ``connectors.lapor``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bridge.http.connector import HttpApiSettings

ATTACHMENT_PREFIXES = ("files/", "/storage/")
"""Where LAPOR! files are fetched with our credentials [A]: never its API paths."""


class LaporSettings(HttpApiSettings):
    """Settings of a ``lapor`` connector.

    - ``base_url``: API root, e.g. ``https://api-splp.layanan.go.id/lapor/3.0.0``.
    - ``auth_header``: header carrying ``Bearer <api_key>``; ``auth`` in production,
      ``Authorization`` in the sandbox.
    - ``api_key`` (secret): the bearer token.
    - ``api_guid`` (secret): the value of the ``token`` header.
    - ``page_size``: records per listing page.
    - ``disposition_id``: only pull complaints disposed to this institution.
    - ``create_path``: where a complaint is created (#2); integrators are given their own
      (``complaints/complaint``, or e.g. ``complaints/complaint-lmw``).
    - ``followup_fields``: fields every posted follow-up carries unless the mapping sets
      them, e.g. ``{ institution_to_id = 1001, template_code = "TL01", rating = 0 }``:
      the real clients always send these three.
    - ``timeout_seconds``: read timeout of every request.
    - ``allow_insecure_http``: allow plain http to a non-loopback host (never in production).
    - ``verify_tls``: verify the server's certificate.
    - ``retry_attempts``: attempts for reads (creates are tried once).
    - ``max_response_bytes``, ``max_attachment_bytes``, ``request_deadline_seconds``,
      ``attachment_hosts``, ``attachment_path_prefixes``: see ``bridge.http`` (default
      prefixes: ``ATTACHMENT_PREFIXES``).
    """

    auth_header: str = "auth"
    api_key: SecretStr
    api_guid: SecretStr
    page_size: int = 100
    disposition_id: str | None = None
    create_path: str = "complaints/complaint"
    followup_fields: dict[str, str | int | bool] = Field(default_factory=dict)
