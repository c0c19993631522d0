"""The state behind the Open311 GeoReport v2 simulator: services, requests, updates and tokens.

Requests and updates are plain dicts, so tests can insert malformed ones as they are
(`insert_raw`) and every query must cope with them. Times are ISO-8601 strings with the
+08:00 offset (WITA: Badung is in Bali), at whole seconds, as GeoReport v2 servers show them.
Contact fields (names, e-mail, phone) are kept under `_contact` and never listed: the
standard's GET answers do not return them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bridge.testing.simulators._common import WITA, Clock, utc_now
from bridge.testing.simulators.corpus import CorpusEntry, load_corpus

# code, name, group, keywords: one service for every canonical category (mappings/open311.toml).
SERVICES: tuple[tuple[str, str, str, str], ...] = (
    ("infrastructure", "Infrastruktur umum", "infrastruktur", "jalan,jembatan,fasilitas"),
    ("pothole", "Jalan berlubang", "infrastruktur", "jalan,lubang,aspal"),
    ("streetlight", "Lampu jalan mati", "infrastruktur", "lampu,penerangan"),
    ("drainage", "Saluran air tersumbat", "infrastruktur", "got,banjir,saluran"),
    ("garbage", "Sampah menumpuk", "lingkungan", "sampah,kebersihan"),
    ("permit", "Perizinan", "perizinan", "izin,imb,usaha"),
    ("health", "Layanan kesehatan", "kesehatan", "puskesmas,rumah sakit"),
    ("civil_registry", "Administrasi kependudukan", "kependudukan", "ktp,kk,akta"),
    ("education", "Pendidikan", "pendidikan", "sekolah,guru"),
    ("social", "Bantuan sosial", "sosial", "bansos,bantuan"),
    ("other", "Lainnya", "lainnya", ""),
)
SERVICE_NAMES = {code: name for code, name, _, _ in SERVICES}
AGENCY = "Pemerintah Kabupaten Badung"
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
_LISTED = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)


class PayloadError(ValueError):
    """A request the server refuses with 400; rendered as an Open311 error list."""


class UnknownRequest(LookupError):
    """No service request with that id (404)."""


def format_time(moment: datetime) -> str:
    """ISO-8601 at whole seconds in WITA, the way the simulated server shows every time."""
    return moment.astimezone(WITA).replace(microsecond=0).isoformat()


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from a stored or queried ISO string; None when it cannot be read."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=WITA)


def service_list() -> list[dict[str, Any]]:
    """`GET services.json`: every service, none with extra attributes (metadata false)."""
    return [
        {
            "service_code": code,
            "service_name": name,
            "description": f"Laporan {name.lower()} di Kabupaten Badung",
            "metadata": False,
            "type": "realtime",
            "keywords": keywords,
            "group": group,
        }
        for code, name, group, keywords in SERVICES
    ]


def _number(fields: Mapping[str, Any], name: str) -> float | None:
    value = fields.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PayloadError(f"{name} must be a number") from None


class Open311State:
    """Everything the fake Open311 server remembers (in memory only)."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.route_counts: Counter[str] = Counter()
        self._clear()

    def _clear(self) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self.tokens: dict[str, str | None] = {}
        self.next_id = 1001
        self.next_update_id = 1
        self.create_count = 0

    def reset(self) -> None:
        """Forget every request, update, token and counter."""
        self._clear()
        self.route_counts.clear()

    def now(self) -> str:
        return format_time(self.clock())

    # -- requests ------------------------------------------------------------------------------
    def find(self, request_id: Any) -> dict[str, Any]:
        record = self.requests.get(str(request_id))
        if record is None:
            raise UnknownRequest(str(request_id))
        return record

    def add_request(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`POST requests`: validate like the standard says, store, return the stored record."""
        code = str(fields.get("service_code") or "")
        if not code:
            raise PayloadError("service_code is required")
        if code not in SERVICE_NAMES:
            raise PayloadError(f"service_code {code!r} is not a known service")
        lat, lng = _number(fields, "lat"), _number(fields, "long")
        address = str(fields.get("address_string") or "").strip()
        if (lat is None or lng is None) and not address and not fields.get("address_id"):
            raise PayloadError("a location is required: lat and long, or address_string")
        now = self.now()
        record: dict[str, Any] = {
            "service_request_id": str(self.next_id),
            "status": "open",
            "status_notes": None,
            "service_name": SERVICE_NAMES[code],
            "service_code": code,
            "description": str(fields.get("description") or ""),
            "agency_responsible": AGENCY,
            "service_notice": "Laporan diterima; ditindaklanjuti dalam 5 hari kerja.",
            "requested_datetime": now,
            "updated_datetime": now,
            "address": address or None,
            "lat": lat,
            "long": lng,
            "media_url": fields.get("media_url") or None,
            "attributes": {k: v for k, v in fields.items() if str(k).startswith("attribute[")},
            "_contact": {k: fields[k] for k in CONTACT_FIELDS if fields.get(k)},
        }
        self.next_id += 1
        self.requests[record["service_request_id"]] = record
        self.create_count += 1
        return record

    def insert_raw(self, record: dict[str, Any]) -> dict[str, Any]:
        """Store a record as given (a test's malformed one included), with an id if it has none."""
        stored = dict(record)
        stored.setdefault("service_request_id", str(self.next_id))
        self.next_id += 1
        self.requests[str(stored["service_request_id"])] = stored
        return stored

    def close(self, request_id: Any, notes: str | None) -> dict[str, Any]:
        """An officer closes a request inside the city's system (no update is posted)."""
        record = self.find(request_id)
        record.update(status="closed", status_notes=notes, updated_datetime=self.now())
        return record

    def new_token(self, request_id: str | None) -> str:
        token = f"tok-{len(self.tokens) + 1}"
        self.tokens[token] = request_id
        return token

    # -- updates (the servicerequestupdates extension) ----------------------------------------
    def add_update(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`POST servicerequestupdates`: store an update; it moves the status and notes."""
        record = self.find(fields.get("service_request_id"))
        status = str(fields.get("status") or "").lower()
        if status not in ("open", "closed"):
            raise PayloadError("status must be open or closed")
        at = parse_time(fields.get("updated_datetime")) if fields.get("updated_datetime") else None
        if fields.get("updated_datetime") and at is None:
            raise PayloadError("updated_datetime must be an ISO-8601 time")
        update_id = str(fields.get("update_id") or f"u{self.next_update_id}")
        self.next_update_id += 1
        now = self.now()
        description = str(fields.get("description") or "")
        update = {
            "update_id": update_id,
            "service_request_id": record["service_request_id"],
            "status": status,
            "description": description,
            # The server's clock orders updates; the client's time is kept as it said it.
            "updated_datetime": now,
            "client_datetime": format_time(at) if at else None,
            "media_url": fields.get("media_url") or None,
        }
        self.updates.append(update)
        record.update(status=status, updated_datetime=now)
        if description:
            record["status_notes"] = description
        return update

    # -- queries -------------------------------------------------------------------------------
    def listed(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A request as `GET requests` shows it: the standard's fields, no contact data."""
        shown = {key: record.get(key) for key in _LISTED if key in record}
        for key, value in record.items():
            if not key.startswith("_") and key not in shown and key != "attributes":
                shown[key] = value  # a raw record's odd keys are shown as they are
        return shown

    def select_requests(
        self,
        *,
        start: datetime,
        end: datetime,
        field: str,
        status: set[str] | None = None,
        codes: set[str] | None = None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Requests whose `field` lies in [start, end] (both inclusive), oldest first, capped."""
        found = []
        for record in self.requests.values():
            at = parse_time(record.get(field))
            if at is None or not start <= at <= end:
                continue
            if status and str(record.get("status")) not in status:
                continue
            if codes and str(record.get("service_code")) not in codes:
                continue
            found.append(record)
        found.sort(key=lambda r: (parse_time(r.get(field)), str(r.get("service_request_id"))))
        return [self.listed(r) for r in found[:limit]]

    def select_updates(
        self, *, start: datetime, end: datetime, request_id: str | None, limit: int
    ) -> list[dict[str, Any]]:
        found = [
            u
            for u in self.updates
            if (at := parse_time(u.get("updated_datetime"))) is not None
            and start <= at <= end
            and (request_id is None or u.get("service_request_id") == request_id)
        ]
        return [dict(u) for u in found[:limit]]

    # -- seeding -------------------------------------------------------------------------------
    def seed(
        self, n: int, corpus: Sequence[CorpusEntry] | None = None, *, rng_seed: int = 311
    ) -> int:
        """Add n requests from the corpus (cycled when small), spread over the last 60 days.

        Deterministic for a given seed and corpus; every seeded request is open.
        """
        if n <= 0:
            return 0
        available = list(corpus if corpus is not None else load_corpus(limit=n))
        if not available:
            raise ValueError("the corpus is empty: nothing to seed from")
        rng = random.Random(rng_seed)
        now = self.clock()
        offsets = sorted((rng.randint(3600, 60 * 86400) for _ in range(n)), reverse=True)
        for index, offset in enumerate(offsets):
            entry = available[index % len(available)]
            self._seed_one(rng, entry, now - timedelta(seconds=offset))
        return n

    def _seed_one(self, rng: random.Random, entry: CorpusEntry, at: datetime) -> None:
        code = rng.choice(SERVICES)[0]
        lat, lng = round(rng.uniform(-8.8, -8.5), 6), round(rng.uniform(115.1, 115.3), 6)
        record = self.add_request(
            {
                "service_code": code,
                "lat": lat,
                "long": lng,
                "address_string": f"Banjar {rng.randint(1, 40)}, Kabupaten Badung",
                "description": f"{entry.title}\n\n{entry.body}",
                "first_name": rng.choice(["Made", "Nyoman", "Ketut", "Putu"]),
                "email": f"warga{rng.randint(100, 999)}@example.id",
            }
        )
        self.create_count -= 1  # seeding is not a client's create
        record["requested_datetime"] = record["updated_datetime"] = format_time(at)
