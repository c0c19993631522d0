"""The settings of an ``open311`` connector (GeoReport v2, see ``connectors.open311``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from bridge.http.connector import HttpApiSettings


class Open311Settings(HttpApiSettings):
    """Settings of an ``open311`` connector.

    - ``base_url``: the GeoReport v2 root, e.g. ``https://311.example.go.id/open311/v2/``.
    - ``jurisdiction_id``: sent with every call when the server hosts several jurisdictions.
    - ``api_key`` (secret): needed to create requests and post updates; sent as a form field.
    - ``window_days``: width of the time windows a listing walks.
    - ``max_results``: the server's cap per listing (the standard's 1000); a window that
      returns this many is split in half and asked again.
    - ``filter_field``: the time the server's ``start_date``/``end_date`` filter on:
      ``"updated_datetime"`` (a cursor feed) or ``"requested_datetime"`` (the standard's
      letter; every cycle then reads the whole history and compares). The one real server
      held against so far, the Helsinki region's Django server, filters on
      ``requested_datetime``. Check yours by closing an old request and listing the last
      hour: if it is not listed, the server filters on ``requested_datetime``. Such a
      server may have CitySDK's ``updated_after``/``updated_before`` (Helsinki's does: list
      with ``updated_after`` and see the closed request): ``"updated_after"`` then lists by
      them, a cursor feed again instead of reading the whole history every cycle.
    - ``page_size``: asked of a server that pages by ``page``/``page_size`` but announces
      nothing (no ``X-Next-Page-URL``, ``X-Page-Count``, ``X-Result-Count``, ``next``):
      a page this full is followed by the next one. Unset, no ``page_size`` is sent and
      only announced pages are followed.
    - ``start_date``: ISO date or time where a first pull (and ``find_by_ref``) starts;
      default two years back. A time without offset is UTC.
    - ``updates``: the server has the ``servicerequestupdates`` extension (follow-ups and
      status writes).
      A server answering 404 there is taken to have none: follow-ups are turned off for
      the connector, said once in the log and by ``bridge doctor``.
    - ``updates_dialect``: ``"plain"`` (FixMyStreet's extension as most servers have it)
      or ``"mysociety"`` (mySociety's open311-adapter: updates listed by dates only, a
      posted update carries the client's ``update_id`` and an upper-case ``status``).
    - ``format``: ``"json"``, ``"xml"`` (the standard's required format) or ``"auto"``
      (JSON, and XML from the first ``.json`` path a server refuses, for good).
    - ``timeout_seconds``: read timeout of every request.
    - ``allow_insecure_http``: allow plain http to a non-loopback host (never in production).
    - ``verify_tls``: verify the server's certificate.
    - ``retry_attempts``: attempts for reads (creates and updates are posted once).
    """

    jurisdiction_id: str | None = None
    api_key: SecretStr | None = None
    window_days: int = Field(30, ge=1)
    max_results: int = Field(1000, ge=1)
    filter_field: Literal["updated_datetime", "requested_datetime", "updated_after"] = (
        "updated_datetime"
    )
    page_size: int | None = Field(None, ge=1)
    start_date: datetime | None = None
    updates: bool = True
    format: Literal["auto", "json", "xml"] = "auto"
    updates_dialect: Literal["plain", "mysociety"] = "plain"

    @field_validator("start_date")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return (
            value if value is None or value.utcoffset() is not None else value.replace(tzinfo=UTC)
        )
