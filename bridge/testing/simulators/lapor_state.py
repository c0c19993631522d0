"""The state behind the LAPOR! v3 simulator: complaints, uploaded documents, logs, follow-ups.

Plain dicts that serialise to JSON as they are, so persistence is one `json.dump`. The web layer
(`lapor`) only parses requests and renders; the rules of the fake remote live here.
Everything is mutated from the server's single event loop, so no locking is needed.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bridge.testing.simulators._common import (
    WIB,
    Clock,
    is_truthy,
    load_json_file,
    save_json_file,
    utc_now,
)
from bridge.testing.simulators.corpus import CorpusEntry, load_corpus
from bridge.testing.simulators.lapor_rules import (
    CLOSED,
    FIRST_TRACKING_ID,
    IN_PROGRESS,
    INSTITUTIONS,
    STATUSES,
    TEMPLATES,
    VERIFIED,
    PayloadError,
    UnknownComplaint,
    as_int,
    institution_name,
    validate_complaint,
)

_STATUS_LOG = "Status diubah dari {{status_old}} ke {{ status_new }}"
_DISPOSE_LOG = "Laporan didisposisikan dari {{institution_from}} ke {{ institution_to }}"
_FOLLOWUP_LOG = "Tindak lanjut diberikan oleh {{institution_from}}"
_KNOWN_INSTITUTIONS = {row["id"] for row in INSTITUTIONS}


def _status_log(code: int, at: datetime) -> dict[str, Any]:
    return {"status_code": code, "status_name": STATUSES[code], "created_at": at.isoformat()}


def _known_institution(field: str, value: Any) -> int:
    target = as_int(field, value)
    if target is None or target not in _KNOWN_INSTITUTIONS:
        raise PayloadError(field, f"The {field} must be a known institution id, got {target}.")
    return target


class LaporState:
    """Everything the fake LAPOR! remembers; optionally saved to a JSON file after each change."""

    def __init__(self, path: str | Path | None = None, *, clock: Clock = utc_now) -> None:
        self.path = Path(path) if path is not None else None
        self.clock = clock
        self.route_counts: Counter[str] = Counter()
        self.create_count = 0
        self._clear()
        loaded = load_json_file(self.path) if self.path is not None else None
        if loaded is not None:
            self._load(loaded)

    # -- persistence -------------------------------------------------------------------------
    def _clear(self) -> None:
        self.complaints: dict[int, dict[str, Any]] = {}
        self.docs: dict[int, dict[str, Any]] = {}
        self.next_id = FIRST_TRACKING_ID
        self.next_doc_id = 1
        self.next_followup_id = 1
        self.next_log_id = 1
        self.seeded = False

    def _load(self, data: dict[str, Any]) -> None:
        self.complaints = {int(k): v for k, v in data["complaints"].items()}
        self.docs = {int(k): v for k, v in data["docs"].items()}
        for key in ("next_id", "next_doc_id", "next_followup_id", "next_log_id", "seeded"):
            setattr(self, key, data[key])

    def _commit(self) -> None:
        if self.path is None:
            return
        data = {
            "complaints": self.complaints,
            "docs": self.docs,
            "next_id": self.next_id,
            "next_doc_id": self.next_doc_id,
            "next_followup_id": self.next_followup_id,
            "next_log_id": self.next_log_id,
            "seeded": self.seeded,
        }
        save_json_file(self.path, data)

    def reset(self) -> None:
        """Forget everything, including the seeded flag and the counters."""
        self._clear()
        self.route_counts.clear()
        self.create_count = 0
        self._commit()

    # -- time and logs -----------------------------------------------------------------------
    def _now(self) -> datetime:
        return self.clock().astimezone(WIB).replace(microsecond=0)

    def _log(self, rec: dict[str, Any], content: str, data: dict[str, Any], at: datetime) -> None:
        # `data` is a JSON *string* in the real API, so clients must decode it twice.
        entry = {"id": self.next_log_id, "content": content, "data": json.dumps(data)}
        rec["data_logs"].append({**entry, "created_at": at.isoformat()})
        self.next_log_id += 1

    def _set_status(self, rec: dict[str, Any], code: int, at: datetime) -> None:
        old = STATUSES[rec["status_code"]]
        rec["status_code"] = code
        rec["status_logs"].append(_status_log(code, at))
        self._log(rec, _STATUS_LOG, {"status_old": old, "status_new": STATUSES[code]}, at)
        rec["updated_at"] = at.isoformat()

    # -- commands ----------------------------------------------------------------------------
    def add_docs(self, files: Iterable[tuple[str, int]]) -> list[dict[str, Any]]:
        """Record uploaded documents (name, size) and return them with their new ids."""
        added = []
        for name, size in files:
            doc = {"id": self.next_doc_id, "name": name, "size": size}
            self.docs[self.next_doc_id] = doc
            self.next_doc_id += 1
            added.append(doc)
        self._commit()
        return added

    def create_complaint(self, payload: Any) -> int:
        """Validate and store a new complaint; return its fresh tracking id."""
        fields = validate_complaint(payload, self.docs)
        rec = self._insert(self.next_id, fields, self._now())
        self.next_id += 1
        self._commit()
        return int(rec["id"])

    def _insert(self, tracking_id: int, fields: dict[str, Any], at: datetime) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "id": tracking_id,
            **fields,
            "status_code": 0,
            "created_at": at.isoformat(),
            "updated_at": at.isoformat(),
            "status_logs": [_status_log(0, at)],
            "data_logs": [],
            "followups": [],
        }
        self._log(rec, _STATUS_LOG, {"status_old": None, "status_new": STATUSES[0]}, at)
        self.complaints[tracking_id] = rec
        return rec

    def insert_raw(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a complaint as given (tests inject malformed ones); same id = replace.

        Missing keys get a fresh complaint's defaults, so the listing can render it; values
        are kept exactly as given. Shapes the listing itself cannot render (a non-text title,
        an unknown status_code, an unreadable updated_at) must be faked at the HTTP level.
        """
        now = self._now().isoformat()
        defaults: dict[str, Any] = {
            "id": self.next_id,
            "title": "",
            "content": "",
            "status_code": 0,
            "disposition_id": None,
            "category_id": None,
            "is_anonymous": 0,
            "is_secret": 0,
            "date_of_incident": None,
            "created_at": now,
            "updated_at": now,
            "tags_raw": "",
            "attachments": [],
            "status_logs": [],
            "data_logs": [],
            "followups": [],
        }
        stored = {**defaults, **record}
        if isinstance(stored["id"], int) and stored["id"] >= self.next_id:
            self.next_id = stored["id"] + 1
        self.complaints[stored["id"]] = stored
        self._commit()
        return stored

    def get(self, complaint_id: int) -> dict[str, Any]:
        try:
            return self.complaints[complaint_id]
        except KeyError:
            raise UnknownComplaint(complaint_id) from None

    def set_status(self, complaint_id: int, status_code: int) -> dict[str, Any]:
        """An admin action on the LAPOR! side (verify, archive, close …), for tests and demos."""
        if status_code not in STATUSES:
            raise PayloadError("status_code", f"Unknown status_code {status_code}.")
        rec = self.get(complaint_id)
        self._set_status(rec, status_code, self._now())
        self._commit()
        return rec

    def verify(self, complaint_id: int) -> dict[str, Any]:
        """The LAPOR! admin verifies a new complaint (0 → 1); anything else is refused."""
        rec = self.get(complaint_id)
        if rec["status_code"] != 0:
            raise PayloadError("status_code", f"Complaint {complaint_id} is already verified.")
        return self.set_status(complaint_id, VERIFIED)

    def close(self, complaint_id: int) -> dict[str, Any]:
        """The admin (or the system, after 10 silent working days) closes the complaint."""
        return self.set_status(complaint_id, CLOSED)

    def dispose(self, complaint_id: int, institution_id: Any) -> dict[str, Any]:
        """The admin disposes the complaint to an agency; a new one is verified on the way."""
        rec = self.get(complaint_id)
        target = _known_institution("institution_id", institution_id)
        at = self._now()
        names = {
            "institution_from": institution_name(rec["disposition_id"]),
            "institution_to": institution_name(target),
        }
        current = STATUSES[rec["status_code"]]
        rec["disposition_id"] = target
        self._log(rec, _DISPOSE_LOG, {"status_old": current, "status_new": current, **names}, at)
        if rec["status_code"] == 0:
            self._set_status(rec, VERIFIED, at)
        rec["updated_at"] = at.isoformat()
        self._commit()
        return rec

    def reject(self, complaint_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """#3 "bukan wewenang": forward the complaint to the institution given as `reason`."""
        rec = self.get(complaint_id)
        target = _known_institution("reason", fields.get("reason"))
        at = self._now()
        names = {
            "institution_from": institution_name(rec["disposition_id"]),
            "institution_to": institution_name(target),
        }
        current = STATUSES[rec["status_code"]]
        status = {"status_old": current, "status_new": current}  # forwarding keeps the status
        rec["disposition_id"] = target
        rec.setdefault("rejections", []).append(dict(fields))
        self._log(rec, _DISPOSE_LOG, {**status, **names}, at)
        rec["updated_at"] = at.isoformat()
        self._commit()
        return rec

    def add_followup(
        self, fields: Mapping[str, Any], files: Sequence[tuple[str, int]]
    ) -> dict[str, Any]:
        """#6: store a follow-up; the first one moves a fresh complaint to "Dalam Proses"."""
        rec = self.get(as_int("complaint_id", fields.get("complaint_id")) or 0)
        content = fields.get("content")
        if not isinstance(content, str) or not content.strip():
            raise PayloadError("content", "The content field is required.")
        followup = self._append_followup(rec, fields, self.add_docs(files), self._now())
        self._commit()
        return followup

    def _append_followup(
        self, rec: dict[str, Any], fields: Mapping[str, Any], docs: list[Any], at: datetime
    ) -> dict[str, Any]:
        """Append a follow-up; one from the disposed agency starts work on a verified complaint."""
        from_id = as_int("institution_from_id", fields.get("institution_from_id"), required=False)
        to_id = as_int("institution_to_id", fields.get("institution_to_id"), required=False)
        followup = {
            "id": self.next_followup_id,
            "complaint_id": rec["id"],
            "institution_from_id": from_id,
            "institution_from_name": institution_name(from_id),
            "institution_to_id": to_id,
            "content": fields["content"],
            "is_secret": int(is_truthy(fields.get("is_secret"))),
            "template_code": fields.get("template_code") or None,
            "rating": as_int("rating", fields.get("rating"), required=False),
            "attachments": docs,
            "author": fields.get("author") or None,
            "created_at": at.isoformat(),
        }
        self.next_followup_id += 1
        rec["followups"].append(followup)
        writer = followup["institution_from_name"] or followup["author"] or "Admin LAPOR!"
        self._log(rec, _FOLLOWUP_LOG, {"institution_from": writer}, at)
        if from_id == rec["disposition_id"] and rec["status_code"] == VERIFIED:
            self._set_status(rec, IN_PROGRESS, at)
        rec["updated_at"] = at.isoformat()
        return followup

    # -- queries -----------------------------------------------------------------------------
    def list_complaints(
        self,
        *,
        disposition_id: int | None = None,
        updated_since: datetime | None = None,
        search: str | None = None,
    ) -> list[dict[str, Any]]:
        """#9: the filtered complaints, by (updated_at, id) so that a client can keep a cursor."""
        needle = search.casefold() if search else None
        rows = []
        for rec in self.complaints.values():
            updated = datetime.fromisoformat(rec["updated_at"])
            if disposition_id is not None and rec["disposition_id"] != disposition_id:
                continue
            if updated_since is not None and updated < updated_since:
                continue
            haystack = " ".join((rec["title"], rec["content"], rec["tags_raw"])).casefold()
            if needle is not None and needle not in haystack:
                continue
            rows.append((updated, rec["id"], rec))
        rows.sort(key=lambda row: row[:2])
        return [rec for _, _, rec in rows]

    # -- seeding -----------------------------------------------------------------------------
    def seed_from_corpus(
        self, n: int, corpus: Sequence[CorpusEntry] | None = None, *, rng_seed: int = 2017
    ) -> int:
        """Add n existing complaints (real tracking ids) once; return how many were added.

        A persisted state that was seeded before is left alone, so a second demo run reuses it.
        """
        if self.seeded or n <= 0:
            return 0
        entries = list(corpus if corpus is not None else load_corpus(limit=n))[:n]
        rng = random.Random(rng_seed)
        start = datetime(2026, 1, 5, 8, 0, tzinfo=WIB)
        # Seven hours apart, but never in the future: a large seed is packed closer.
        room = self._now() - start
        step = min(timedelta(hours=7), room / max(1, len(entries)))
        step = step if step > timedelta(0) else timedelta(hours=7)
        added = 0
        for index, entry in enumerate(entries):
            tracking_id = int(entry.tracking_id)
            if tracking_id in self.complaints:
                continue
            self._seed_one(rng, tracking_id, entry, start + step * index)
            added += 1
        self.seeded = True
        self._commit()
        return added

    def _seed_one(
        self, rng: random.Random, tracking_id: int, entry: CorpusEntry, at: datetime
    ) -> None:
        incident = at - timedelta(days=rng.randint(0, 14))
        fields = {
            "title": entry.title,
            "content": entry.body,
            "disposition_id": rng.choice([1001, 1001, 1002, 1003, 1004, 1005, 2001, 3001]),
            "category_id": rng.randint(1, 8),
            "classification_id": 1,
            "location_id": None,
            "channel": rng.choice([1, 2, 3]),
            "is_anonymous": int(rng.random() < 0.2),
            "is_secret": int(rng.random() < 0.1),
            "is_priority": 0,
            "tags_raw": "",
            "date_of_incident": incident.strftime("%d/%m/%Y"),
            "attachments": [],
            "reporter": {"user_id": 500000 + rng.randint(1, 99999)},
            "payload": None,
        }
        rec = self._insert(tracking_id, fields, at)
        status = rng.choice([0, 1, 1, 2, 2, 3, 4])
        if status >= 1:
            self._set_status(rec, 1, at + timedelta(hours=2))
        if status >= IN_PROGRESS:
            reply = {
                "institution_from_id": rec["disposition_id"],
                "content": TEMPLATES[0]["content"],
            }
            self._append_followup(rec, reply, [], at + timedelta(hours=5))
        if status > IN_PROGRESS:
            self._set_status(rec, status, at + timedelta(hours=6))
