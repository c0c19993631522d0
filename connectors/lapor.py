"""The SP4N-LAPOR! v3 connector (DOMAIN.md §2), through the SPLP API gateway.

Every request carries two headers: ``<auth_header>: Bearer <api_key>`` (``auth`` in
production, ``Authorization`` in the sandbox) and ``token: <api_guid>``.

LAPOR! has no idempotency key, so ``create`` stamps the bridge's reference into
``tags_raw`` as a hashtag and ``find_by_ref`` searches for it: a create whose
answer was lost can be found again instead of being made twice. Creates are never
retried here; the engine decides, after asking ``find_by_ref``.

Follow-ups are read with #5 and posted with #6; forwarding (*Bukan Wewenang*) is #3.
An agency cannot write a status: LAPOR! moves statuses by its own workflow (a
follow-up from the disposed agency moves a verified complaint to "Dalam Proses").
Asking for the follow-ups of a complaint LAPOR! does not know raises
``RemoteRejected`` (HTTP 404): it is that complaint's problem. A refused listing,
search or detail read is the route's: ``ReadRefused``, naming ``base_url``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import structlog

from bridge.connector import NativeRecord
from bridge.errors import ProtocolError, ReadRefused
from bridge.http.status import json_body
from bridge.model import Attachment

from .lapor_http import LaporHttp
from .lapor_settings import ATTACHMENT_PREFIXES, LaporSettings, identity_problems
from .lapor_wire import (
    add_tag,
    created_id,
    flat_institutions,
    followup_id,
    form_fields,
    has_tag,
    iso_aware,
    results_of,
    segment,
    uploaded_ids,
)

__all__ = ["LaporConnector", "LaporSettings"]

log = structlog.get_logger(__name__)

AttachmentFetcher = Callable[[Attachment], bytes]


class LaporConnector(LaporHttp):
    """Complaints in LAPOR!: pull by ``updated_since``, create with a reference hashtag."""

    type = "lapor"
    can_create = True
    change_feed = "cursor"
    can_find_by_ref = True
    supports_followups = True
    can_write_status = False  # no status endpoint for agencies
    can_forward = True
    attachment_prefixes = ATTACHMENT_PREFIXES

    _fetch_attachment: AttachmentFetcher | None = None

    def problems(self) -> list[str]:
        return identity_problems(self.name, self.options)

    def set_attachment_fetcher(self, fetch: AttachmentFetcher | None) -> None:
        """Where ``create`` gets attachment bytes (the source connector's ``download``)."""
        self._fetch_attachment = fetch

    # -- reading ---------------------------------------------------------------

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        params: dict[str, str] = {}
        if self.options.disposition_id is not None:
            params["disposition_id"] = self.options.disposition_id
        if since is not None:
            params["updated_since"] = iso_aware(since)
        params["page_size"] = str(self.options.page_size)
        keys = ("base_url", "disposition_id")
        yield from self._listing(params, "list complaints", keys)

    def get(self, record_id: str) -> NativeRecord | None:
        """The detail (#4): the listing's summary fields and more, so one mapping reads both.

        ``data_logs``, which #4 answers beside ``data``, is copied into the record.
        """
        context = self._context("get complaint")
        path = f"complaints/{segment(record_id)}/complaint"
        try:
            body = self._get(path, "get complaint", keys=("base_url",))
        except ReadRefused as exc:
            if exc.status_code == 404:
                return None
            raise
        results = results_of(body, context)
        data = results.get("data")
        if data is None:
            return None
        if not isinstance(data, dict):
            raise ProtocolError(f"{context}: results.data is not an object")
        record = dict(data)
        # The detail answers for one id: a detail that leaves it out still names it.
        record.setdefault("id", int(record_id) if record_id.isdigit() else record_id)
        if "data_logs" not in record and isinstance(results.get("data_logs"), list):
            record["data_logs"] = results["data_logs"]
        return record

    def followups(self, record_id: str) -> list[NativeRecord]:
        """Every follow-up (#5), oldest first as LAPOR! lists them, over all pages."""
        path = f"complaints/{segment(record_id)}/followups"
        pages = self._pages(path, {}, context="list follow-ups")
        return [flat_institutions(f) for page in pages for f in page]

    def institutions(self) -> list[NativeRecord]:
        """LAPOR!'s institution master (#7): ``{id, name}`` rows (``bridge doctor`` reads it)."""
        params = {"page_size": str(self.options.page_size)}
        pages = self._pages(
            "masters/institutions/external", params, context="list institutions", keys=("base_url",)
        )
        return [row for page in pages for row in page]

    def find_by_ref(self, ref: str) -> str | None:
        params = {"search": ref, "page_size": str(self.options.page_size)}
        pages = self._listing(params, "search by reference", ("base_url",))
        for page in pages:
            for record in page:
                if has_tag(record.get("tags_raw"), ref):
                    return str(record["id"])
        return None

    # -- writing ---------------------------------------------------------------

    def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
        payload = dict(record)
        # The agency's identity comes from [agency]; a record's own location_id wins.
        for key, value in self.options.identity().items():
            if payload.get(key) in (None, ""):
                payload[key] = int(value) if value.isdigit() else value
        if attachments:
            doc_ids = self.upload(attachments)
            # LAPOR! wants a *string* holding a JSON list of document ids (DOMAIN.md §2 #2).
            payload["attachments"] = json.dumps(doc_ids, separators=(",", ":"))
        payload["tags_raw"] = add_tag(payload.get("tags_raw"), ref)
        context = self._context("create complaint")
        response = self._send(
            lambda c: c.post(self.options.create_path, json=payload), context, idempotent=False
        )
        new_id = created_id(json_body(response, context=context), context)
        log.info("lapor.complaint.created", connector=self.name, record_id=new_id)
        return new_id

    def upload(self, attachments: Sequence[Attachment]) -> list[Any]:
        """Upload files (#1) and return their document ids, in order."""
        files = [
            ("attachments[]", (a.filename, self._attachment_bytes(a), a.content_type))
            for a in attachments
        ]
        context = self._context("upload attachments")
        # Retrying an upload is safe: a duplicate upload leaves an unused document,
        # never a second complaint.
        response = self._send(
            lambda c: c.post("complaints/complaint/file", files=files), context, idempotent=True
        )
        return uploaded_ids(results_of(json_body(response, context=context), context), context)

    def add_followup(
        self, record_id: str, followup: NativeRecord, attachments: Sequence[Attachment]
    ) -> str | None:
        """Post a follow-up (#6, multipart); return its id when the answer carries one.

        ``followup``'s keys are the form fields (``institution_from_id``,
        ``institution_to_id``, ``content``, ``is_secret``, ``template_code``, ``rating``);
        ``complaint_id`` is set from ``record_id``. Never retried: a lost answer may
        hide a posted follow-up, and posting it again would show it twice.
        """
        # The real clients always send institution_to_id, template_code and rating: the
        # connector's followup_fields fill what the mapping left out.
        defaults: dict[str, Any] = dict(self.options.followup_fields)
        if self.options.disposition_id is not None:
            defaults.setdefault("institution_from_id", self.options.disposition_id)
        data = form_fields({**defaults, **followup})
        data["complaint_id"] = record_id
        files = [
            (f"attachment[{i}]", (a.filename, self._attachment_bytes(a), a.content_type))
            for i, a in enumerate(attachments)
        ]
        context = self._context("add follow-up")
        response = self._send(
            lambda c: c.post("complaints/followup/add", data=data, files=files or None),
            context,
            idempotent=False,
        )
        new_id = followup_id(json_body(response, context=context))
        log.info("lapor.followup.added", connector=self.name, record_id=record_id)
        return new_id

    def forward(self, record_id: str, institution_id: str, reason: str) -> None:
        """Hand the complaint to ``institution_id`` (#3, *Bukan Wewenang*).

        Not retried: once it succeeded the complaint is no longer ours, so a repeat
        would be refused and hide the success.
        """
        # A JSON body, as both public production clients send it (numbers as numbers).
        body = {
            "is_request": 1,
            "reason": int(institution_id) if institution_id.isdigit() else institution_id,
            "reason_description": reason,
            "not_authority": 1,
        }
        path = f"complaints/process/{segment(record_id)}/reject"
        context = self._context("forward complaint")
        self._send(lambda c: c.post(path, json=body), context, idempotent=False)
        log.info("lapor.complaint.forwarded", connector=self.name, record_id=record_id)

    # -- internals -------------------------------------------------------------

    def _attachment_bytes(self, attachment: Attachment) -> bytes:
        if attachment.content is not None:
            return attachment.content
        if self._fetch_attachment is not None:
            return self._fetch_attachment(attachment)
        return self.download(attachment)
