"""The status quo the bridge is measured against: a serial cron script, one request at a time.

What an agency's hand-written copier does each night: log in to the door, list its pages,
GET each complaint's detail, download its files and upload them to LAPOR!, POST the create.
No ledger, no retries, no reference, no concurrency. It maps fields with the bridge's own
mapping files and withholds confidential complaints and reporters who asked for anonymity
as the bridge does, so both put the same complaints into LAPOR! and the results can be
compared one for one; only the way of sending differs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bridge.mapping import Mapping
from bridge.sync.anonymity import anonymous


def copy_serially(
    door_url: str,
    door_login: dict[str, str],
    hub_url: str,
    hub_headers: dict[str, str],
    source_mapping: Mapping,
    target_mapping: Mapping,
    agency: dict[str, str],
) -> int:
    """Copy every complaint of the SIDUMAS door at ``door_url`` into LAPOR!; return how many.

    ``agency``: the agency's identity every create carries (``disposition_id``, ``channel``,
    ``location_id``), as a hand-written copier has it typed in. Payloads are written as the
    bridge writes them (the original date and status noted in the text, ``unsent_note``), so
    both put the very same complaints into LAPOR!; an anonim one leaves as the bridge's
    defaults send it (``[routes.privacy]``), scrubbed of its reporter's identity.
    """
    created = 0
    with (
        httpx.Client(base_url=door_url, timeout=30) as door,
        httpx.Client(base_url=hub_url, headers=hub_headers, timeout=30) as hub,
    ):
        answer = door.post("login", json=door_login)
        answer.raise_for_status()
        door.headers["Authorization"] = f"Bearer {answer.json()['data']['token']}"
        page, last = 1, 1
        while page <= last:
            listing = door.get("pengaduan/list", params={"page": page})
            listing.raise_for_status()
            last = listing.json()["data"]["last_page"]
            for row in listing.json()["data"]["data"]:
                created += _copy_one(door, hub, row["id"], source_mapping, target_mapping, agency)
            page += 1
    return created


def _copy_one(
    door: httpx.Client,
    hub: httpx.Client,
    record_id: Any,
    source: Mapping,
    target: Mapping,
    agency: dict[str, str],
) -> int:
    detail = door.get("pengaduan/detail", params={"pengaduan_id": record_id})
    detail.raise_for_status()
    complaint = source.to_canonical(detail.json()["data"])
    if complaint.is_secret:
        return 0  # confidential: never copied to a system not cleared for it
    if complaint.is_anonymous:  # as the bridge's defaults leave it: no name, no address
        complaint = anonymous(complaint, scrub_text=True, keep_location=False)
    payload = {**agency, **target.to_native(complaint, origin="sidumas")}  # its location_id wins
    if complaint.attachments:
        files = []
        for attachment in complaint.attachments:
            assert attachment.url is not None
            content = door.get(attachment.url)
            content.raise_for_status()
            files.append(("attachments[]", (attachment.filename, content.content)))
        uploaded = hub.post("complaints/complaint/file", files=files)
        uploaded.raise_for_status()
        ids = [doc["id"] for doc in uploaded.json()["results"]["docs"]]
        payload["attachments"] = json.dumps(ids, separators=(",", ":"))
    answer = hub.post("complaints/complaint", json=payload)
    answer.raise_for_status()
    return 1
