"""The state behind the SIDUMAS (Kabupaten Badung) simulator: complaints, responses and files.

Records are plain dicts kept in a list, so tests can insert malformed ones as they are
(`upsert_raw`) and every query must cope with them. File bytes are kept base64-encoded so the whole
state persists as one JSON file.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from bridge.testing.simulators._common import (
    WITA,
    Clock,
    is_truthy,
    load_json_file,
    save_json_file,
    utc_now,
)
from bridge.testing.simulators.corpus import CorpusEntry, load_corpus
from bridge.testing.simulators.sidumas_data import (
    CATEGORIES,
    STATUS_LABELS,
    fake_address,
    fake_reporter,
    tiny_pdf,
    tiny_png,
    village_for,
)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # SIDUMAS shows naive local (WITA) times
_SEED_START = datetime(2026, 1, 1, 7, 0)
_SEED_END = datetime(2026, 10, 31, 20, 0)


class PayloadError(ValueError):
    """A request SIDUMAS would refuse with 422; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownPengaduan(LookupError):
    """No complaint with that id."""


def _sort_key(rec: Mapping[str, Any]) -> tuple[int, int, str]:
    # Injected records may carry odd ids; they sort after the numeric ones instead of crashing.
    raw = rec.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return (0, raw, "")
    return (1, 0, str(raw))


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(name, f"Kolom {name} wajib diisi.")
    return value


def _number(fields: Mapping[str, Any], name: str, kind: type[int] | type[float]) -> Any:
    value = fields.get(name)
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise PayloadError(name, f"Kolom {name} harus berupa angka.") from None


def _haystack(rec: Mapping[str, Any]) -> str:
    searched = ("topik", "uraian", "no_tiket", "ref_eksternal")
    return " ".join(str(rec.get(key) or "") for key in searched).casefold()


def _status(fields: Mapping[str, Any], name: str) -> int | None:
    value = _number(fields, name, int)
    if value is not None and value not in STATUS_LABELS:
        raise PayloadError(name, f"Status {value} tidak dikenal.")
    return None if value is None else int(value)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(name).name) or "file"


class SidumasState:
    """Everything the fake SIDUMAS remembers; optionally saved to a JSON file after each change."""

    def __init__(self, path: str | Path | None = None, *, clock: Clock = utc_now) -> None:
        self.path = Path(path) if path is not None else None
        self.clock = clock
        self.route_counts: Counter[str] = Counter()
        self.create_count = 0
        self._clear()
        loaded = load_json_file(self.path) if self.path is not None else None
        if loaded is not None:
            for key in ("records", "files", "next_id", "next_tanggapan_id", "seeded"):
                setattr(self, key, loaded[key])

    def _clear(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.files: dict[str, str] = {}
        self.next_id = 1
        self.next_tanggapan_id = 1
        self.seeded = False

    def _commit(self) -> None:
        if self.path is None:
            return
        keys = ("records", "files", "next_id", "next_tanggapan_id", "seeded")
        save_json_file(self.path, {key: getattr(self, key) for key in keys})

    def reset(self) -> None:
        """Forget everything, including the seeded flag and the counters."""
        self._clear()
        self.route_counts.clear()
        self.create_count = 0
        self._commit()

    def _local_now(self) -> str:
        return self.clock().astimezone(WITA).strftime(TIME_FORMAT)

    # -- files -------------------------------------------------------------------------------
    def store_file(self, record_id: int, name: str, data: bytes) -> dict[str, str]:
        """Keep the bytes; return the `files[]` entry with a path the app turns into a URL."""
        stored = f"p{record_id}-{len(self.files) + 1}-{_safe_name(name)}"
        self.files[stored] = base64.b64encode(data).decode("ascii")
        return {"nama": name, "url": f"/api/files/{stored}"}

    def file_bytes(self, stored: str) -> bytes | None:
        encoded = self.files.get(stored)
        return None if encoded is None else base64.b64decode(encoded)

    def _json_files(self, record_id: int, value: Any) -> list[dict[str, Any]]:
        """`files` sent in JSON: URLs, or {nama, base64} objects holding the content."""
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise PayloadError("files", "Kolom files harus berupa daftar.")
        entries = []
        for item in value:
            if isinstance(item, str):
                entries.append({"nama": PurePosixPath(item).name, "url": item})
            elif isinstance(item, dict) and isinstance(item.get("base64"), str):
                try:
                    data = base64.b64decode(item["base64"], validate=True)
                except binascii.Error:
                    raise PayloadError("files", "Isi berkas bukan base64 yang sah.") from None
                entries.append(self.store_file(record_id, str(item.get("nama") or "file"), data))
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                name = item.get("nama") or PurePosixPath(item["url"]).name
                entries.append({"nama": name, "url": item["url"]})
            else:
                raise PayloadError("files", "Setiap berkas harus berupa URL atau {nama, base64}.")
        return entries

    # -- records -----------------------------------------------------------------------------
    def find(self, pengaduan_id: Any) -> dict[str, Any]:
        for rec in self.records:
            if str(rec.get("id")) == str(pengaduan_id):
                return rec
        raise UnknownPengaduan(pengaduan_id)

    def listing(self, cid: str | None = None, search: str | None = None) -> list[dict[str, Any]]:
        """Records by id ascending; `cid` filters the category, `search` is a substring of
        topik, uraian, no_tiket or ref_eksternal (whole-token matching is the client's job)."""
        needle = search.casefold() if search else None
        rows = []
        for rec in sorted(self.records, key=_sort_key):
            if cid and str(rec.get("kategori_id")) != cid:
                continue
            if needle is not None and needle not in _haystack(rec):
                continue
            rows.append(rec)
        return rows

    def _record(self, record_id: int, tanggal: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        kategori_id = fields["kategori_id"]
        return {
            "id": record_id,
            "no_tiket": f"SDM-{tanggal[:4]}-{record_id:06d}",
            "topik": fields["topik"],
            "uraian": fields["uraian"],
            "tanggal": tanggal,
            "pelapor": fields.get("pelapor") or "",
            "user_id": fields.get("user_id"),
            "nik": fields.get("nik"),
            "telp": fields.get("telp"),
            "email": fields.get("email"),
            "kategori_id": kategori_id,
            "kategori_name": CATEGORIES[kategori_id],
            "status": 0,
            "status_pengaduan": STATUS_LABELS[0],
            "koordinat_lat": fields.get("lat"),
            "koordinat_lng": fields.get("lng"),
            "alamat": fields.get("alamat") or "",
            "hide_identitas": int(is_truthy(fields.get("hide_identitas"))),
            "hide_pengaduan": int(is_truthy(fields.get("hide_pengaduan"))),
            "opd_id": fields.get("opd_id"),
            "files": [],
            "tanggapans": [],
            # [A] the external reference of an integrated system (the bridge's own ref).
            "ref_eksternal": fields.get("ref_eksternal") or None,
            "updated_at": tanggal,  # [A] bumped on every change
        }

    def add(
        self, fields: Mapping[str, Any], uploads: Sequence[tuple[str, bytes]] = ()
    ) -> dict[str, Any]:
        """`pengaduan/add`: validate, store with status 0 (Menunggu) and return the record."""
        clean = {
            **fields,
            "topik": _text(fields, "topik"),
            "uraian": _text(fields, "uraian"),
            "kategori_id": _number(fields, "kategori_id", int),
            "user_id": _number(fields, "user_id", int),
            "lat": _number(fields, "lat", float),
            "lng": _number(fields, "lng", float),
            "opd_id": _number(fields, "opd_id", int),
            "pelapor": fields.get("atas_nama") or fields.get("pelapor"),
        }
        if clean["kategori_id"] not in CATEGORIES:
            raise PayloadError("kategori_id", "Kolom kategori_id wajib diisi dengan kategori sah.")
        if clean["opd_id"] is None and None not in (clean["lat"], clean["lng"]):
            clean["opd_id"] = village_for(clean["lat"], clean["lng"])["opd_id"]
        record_id = self.next_id
        rec = self._record(record_id, self._local_now(), clean)
        rec["files"] = self._json_files(record_id, fields.get("files"))
        rec["files"] += [self.store_file(record_id, name, data) for name, data in uploads]
        self.records.append(rec)
        self.next_id += 1
        self._commit()
        return rec

    def add_tanggapan(
        self, pengaduan_id: Any, fields: Mapping[str, Any], *, default_tipe: int = 0
    ) -> dict[str, Any]:
        """A response (tipe 1 = official); `status_id` also moves the status; `files` are URLs."""
        rec = self.find(pengaduan_id)
        status_id = _status(fields, "status_id")
        tipe = _number(fields, "tipe", int)
        tanggapan = self._tanggapan(
            default_tipe if tipe is None else tipe,
            status_id,
            _text(fields, "tanggapan"),
            str(fields.get("nama") or "Admin SIDUMAS"),
            self._local_now(),
        )
        tanggapan["files"] = self._json_files(rec["id"], fields.get("files"))
        self._append(rec, tanggapan)
        self._commit()
        return tanggapan

    def set_status(self, pengaduan_id: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        """[A] `pengaduan/status`: an officer (or an integration) moves the status."""
        rec = self.find(pengaduan_id)
        status = _status(fields, "status")
        if status is None:
            raise PayloadError("status", "Kolom status wajib diisi.")
        rec["status"] = status
        rec["status_pengaduan"] = STATUS_LABELS[status]
        rec["updated_at"] = self._local_now()
        self._commit()
        return rec

    def _tanggapan(
        self, tipe: int, status_id: int | None, text: str, nama: str, at: str
    ) -> dict[str, Any]:
        self.next_tanggapan_id += 1
        return {
            "id": self.next_tanggapan_id - 1,
            "tipe": tipe,
            "status_id": status_id,
            "tanggapan": text,
            "nama": nama,
            "files": [],
            "created_at": at,
        }

    def _append(self, rec: dict[str, Any], tanggapan: dict[str, Any]) -> None:
        rec.setdefault("tanggapans", []).append(tanggapan)
        rec["updated_at"] = tanggapan["created_at"]
        if tanggapan["status_id"] is not None:
            rec["status"] = tanggapan["status_id"]
            rec["status_pengaduan"] = STATUS_LABELS[tanggapan["status_id"]]

    def upsert_raw(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Store a record exactly as given (tests inject malformed ones); same id = replace."""
        rec = dict(record)
        if "id" not in rec:
            rec["id"] = self.next_id
        if isinstance(rec["id"], int) and rec["id"] >= self.next_id:
            self.next_id = rec["id"] + 1
        self.records = [r for r in self.records if str(r.get("id")) != str(rec["id"])]
        self.records.append(rec)
        self._commit()
        return rec

    # -- seeding -----------------------------------------------------------------------------
    def seed(
        self, n: int, corpus: Sequence[CorpusEntry] | None = None, *, rng_seed: int = 2026
    ) -> int:
        """Create n complaints from the corpus once; return how many were created.

        Deterministic for a given seed and corpus. A persisted state that was seeded before is left
        alone, so a second demo run reuses the same records.
        """
        if self.seeded or n <= 0:
            return 0
        available = list(corpus if corpus is not None else load_corpus(limit=n))
        if not available:
            raise ValueError("the corpus is empty: nothing to seed from")
        # A small corpus (the shipped sample) is cycled, so `n` is always honoured.
        entries = [available[i % len(available)] for i in range(n)]
        rng = random.Random(rng_seed)
        span = int((_SEED_END - _SEED_START).total_seconds())
        offsets = sorted(rng.randint(0, span) for _ in entries)
        for entry, offset in zip(entries, offsets, strict=True):
            self._seed_one(rng, entry, _SEED_START + timedelta(seconds=offset))
        self.seeded = True
        self._commit()
        return len(entries)

    def _seed_one(self, rng: random.Random, entry: CorpusEntry, at: datetime) -> None:
        lat, lng = round(rng.uniform(-8.8, -8.5), 6), round(rng.uniform(115.1, 115.3), 6)
        village = village_for(lat, lng)
        fields = {
            **fake_reporter(rng),
            "topik": entry.title,
            "uraian": entry.body,
            "kategori_id": rng.choice(list(CATEGORIES)),
            "lat": lat,
            "lng": lng,
            "alamat": fake_address(rng, village["desa"], village["kecamatan"]),
            "hide_identitas": int(rng.random() < 0.2),
            "hide_pengaduan": int(rng.random() < 0.1),
            "opd_id": village["opd_id"],
        }
        record_id = self.next_id
        rec = self._record(record_id, at.strftime(TIME_FORMAT), fields)
        if rng.random() < 0.25:
            rec["files"] = [self._seed_file(rng, record_id, k) for k in range(rng.randint(1, 2))]
        status = rng.choices(list(STATUS_LABELS), weights=[35, 20, 20, 20, 5])[0]
        self._seed_tanggapans(rec, status, at, village["opd_name"])
        self.records.append(rec)
        self.next_id += 1

    def _seed_file(self, rng: random.Random, record_id: int, k: int) -> dict[str, str]:
        if rng.random() < 0.5:
            return self.store_file(record_id, f"foto-{k + 1}.png", tiny_png(record_id + k))
        return self.store_file(
            record_id, f"lampiran-{k + 1}.pdf", tiny_pdf(f"Lampiran {record_id}")
        )

    def _seed_tanggapans(self, rec: dict[str, Any], status: int, at: datetime, opd: str) -> None:
        steps = [
            (
                1,
                0,
                1,
                "Pengaduan telah diverifikasi dan diteruskan ke OPD terkait.",
                "Admin SIDUMAS",
            ),
            (2, 0, 2, "Pengaduan sedang ditindaklanjuti oleh petugas di lapangan.", opd),
            (3, 1, 3, "Permasalahan telah ditangani. Terima kasih atas laporan Anda.", opd),
        ]
        if status == 4:
            steps = [(4, 0, 4, "Pengaduan ditolak karena bukan kewenangan Pemkab Badung.", "Admin")]
        for hours, (needed, tipe, status_id, text, nama) in enumerate(steps, 1):
            if status >= needed:
                when = (at + timedelta(hours=6 * hours)).strftime(TIME_FORMAT)
                self._append(rec, self._tanggapan(tipe, status_id, text, nama, when))
