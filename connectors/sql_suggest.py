"""``bridge mapping suggest --sql URL``: a commented draft mapping read from a live schema.

Read-only: the schema through SQLAlchemy's inspector (``information_schema`` on MariaDB
and PostgreSQL) and the distinct values of the status column (at most 50). Every choice
the schema does not settle is a guess, written as a ``# GUESS:`` comment beside it; what
a person must decide is an ``# EDIT:`` comment (``Draft.edits`` counts them). The draft
passes ``bridge mapping check`` as written, so an edit is a correction, never a repair.

Names are matched case- and underscore-blind against what real apps use: native PHP
(``pengaduan``/``isi_laporan``/``tgl_pengaduan``, Indonesian), Laravel (``complaints``,
``created_at``/``updated_at``, a ``users`` table, ULID ids), CodeIgniter 4 (``id``,
``created_at``/``updated_at``/``deleted_at``) and Prisma (``"Complaint"``, ``createdAt``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, MetaData, Table, inspect, select
from sqlalchemy.types import Enum

COMPLAINT_TABLES = ("pengaduan", "complaint", "laporan", "aduan", "report", "ticket", "keluhan")
RESPONSE_TABLES = ("tanggapan", "response", "reply", "replies", "comment", "balasan", "jawaban")
REPORTER_TABLES = ("masyarakat", "user", "pelapor", "warga", "penduduk")
CONTENT: tuple[str, ...] = ("isilaporan", "isi", "isipengaduan", "content", "description")
CONTENT += ("deskripsi", "body", "laporan", "keluhan", "detail", "message", "uraian")
TITLE = ("judul", "title", "subject", "perihal", "judullaporan")
CREATED = ("tglpengaduan", "createdat", "tanggal", "tgl", "tanggalpengaduan", "date")
UPDATED = ("updatedat", "tglupdate", "modifiedat", "lastmodified")
STATUS = ("status", "state", "statuspengaduan")
ANONYMOUS = ("anonim", "isanonymous", "anonymous", "isanonim", "hideidentity")
SECRET = ("rahasia", "issecret", "secret", "israhasia", "confidential", "isconfidential")
NAME = ("nama", "name", "namalengkap", "fullname")
PHONE = ("telp", "phone", "nohp", "notelp", "phonenumber", "hp", "telepon")
EMAIL = ("email", "surel")
NIK = ("nik", "noktp", "ktp")
RESPONSE_TEXT = ("tanggapan", "response", "content", "body", "isi", "message", "balasan")
# Distinct status values a person may write, and the canonical status each most likely is.
STATUS_WORDS = {
    "new": ("0", "baru", "new", "menunggu", "pending", "open", "diajukan", "terkirim", "submitted"),
    "verified": ("verifikasi", "verified", "diterima", "valid"),
    "in_progress": ("proses", "diproses", "process", "processing", "in_progress", "progress"),
    "closed": ("selesai", "done", "closed", "finished", "resolved", "ditutup", "complete"),
    "rejected": ("ditolak", "rejected", "tolak", "invalid"),
}


def _squash(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def pick(names: Iterable[str], wanted: Sequence[str]) -> str | None:
    """The first of ``names`` equal (case- and underscore-blind) to a ``wanted`` name, in
    the order of ``wanted``; then the first that contains one."""
    listed = list(names)
    for want in wanted:
        for name in listed:
            if _squash(name) == want:
                return name
    for want in wanted:
        for name in listed:
            if want in _squash(name) and len(want) > 3:
                return name
    return None


@dataclass
class Draft:
    """The draft mapping's lines, and how many edits its comments ask for."""

    lines: list[str] = field(default_factory=list)
    edits: int = 0
    guesses: int = 0

    def add(self, line: str = "", *, guess: str | None = None, edit: str | None = None) -> None:
        if guess is not None:
            self.guesses += 1
            line = f"{line}   # GUESS: {guess}" if line else f"# GUESS: {guess}"
        if edit is not None:
            self.edits += 1
            line = f"{line}   # EDIT: {edit}" if line else f"# EDIT: {edit}"
        self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def q(value: str) -> str:
    """A TOML string (a JSON string is a valid TOML basic string)."""
    return json.dumps(value, ensure_ascii=False)


class Schema:
    """The tables of one database, read once through the inspector."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.inspector = inspect(engine)
        self.tables = sorted(self.inspector.get_table_names())
        self.columns: dict[str, list[dict[str, Any]]] = {
            t: [dict(c) for c in self.inspector.get_columns(t)] for t in self.tables
        }

    def names(self, table: str) -> list[str]:
        return [str(c["name"]) for c in self.columns[table]]

    def primary_key(self, table: str) -> str | None:
        found = self.inspector.get_pk_constraint(table).get("constrained_columns") or []
        return str(found[0]) if len(found) == 1 else None

    def foreign_keys(self, table: str) -> list[dict[str, Any]]:
        return [dict(fk) for fk in self.inspector.get_foreign_keys(table)]

    def column(self, table: str, name: str) -> dict[str, Any]:
        return next(c for c in self.columns[table] if c["name"] == name)

    def status_values(self, table: str, name: str) -> list[str]:
        """The enum's values, else the column's distinct values (at most 50)."""
        kind = self.column(table, name)["type"]
        if isinstance(kind, Enum) and kind.enums:
            return [str(v) for v in kind.enums]
        reflected = Table(table, MetaData(), autoload_with=self.engine)
        query = select(reflected.c[name]).distinct().limit(50)
        with self.engine.connect() as conn:
            return sorted(str(v) for (v,) in conn.execute(query) if v is not None)
