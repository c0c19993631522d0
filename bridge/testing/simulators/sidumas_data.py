"""Fixed tables and deterministic fake data for the SIDUMAS simulator.

Categories, status labels and villages are ours (the server is not public, DOMAIN.md §3). Reporters
are invented from a seeded `random.Random`, so a seed always yields the same people.
"""

from __future__ import annotations

import random
import struct
import zlib
from datetime import datetime, timedelta
from typing import Any

CATEGORIES: dict[int, str] = {
    1: "Infrastruktur",
    2: "Kependudukan",
    3: "Kesehatan",
    4: "Pendidikan",
    5: "Lingkungan",
    6: "Perizinan",
    7: "Sosial",
    8: "Lainnya",
}

STATUS_LABELS: dict[int, str] = {
    0: "Menunggu",
    1: "Diverifikasi",
    2: "Diproses",
    3: "Selesai",
    4: "Ditolak",
}

# (desa, kecamatan, lat, lng, opd_id, opd name): complaints are routed to the kecamatan office.
VILLAGES: list[tuple[str, str, float, float, int, str]] = [
    ("Jimbaran", "Kuta Selatan", -8.790, 115.160, 201, "Kecamatan Kuta Selatan"),
    ("Benoa", "Kuta Selatan", -8.780, 115.220, 201, "Kecamatan Kuta Selatan"),
    ("Kuta", "Kuta", -8.720, 115.170, 202, "Kecamatan Kuta"),
    ("Kerobokan", "Kuta Utara", -8.660, 115.160, 203, "Kecamatan Kuta Utara"),
    ("Canggu", "Kuta Utara", -8.640, 115.130, 203, "Kecamatan Kuta Utara"),
    ("Mengwi", "Mengwi", -8.550, 115.170, 204, "Kecamatan Mengwi"),
    ("Sibangkaja", "Abiansemal", -8.530, 115.240, 205, "Kecamatan Abiansemal"),
    ("Petang", "Petang", -8.360, 115.220, 206, "Kecamatan Petang"),
]

_BALINESE_PREFIX = ["I Made", "I Wayan", "I Ketut", "I Nyoman", "Ni Luh", "Ni Made", "Ni Putu"]
_BALINESE_NAMES = ["Sudarsana", "Artawan", "Suartini", "Wirawan", "Ayu Lestari", "Sukadana"]
_GIVEN = ["Budi", "Siti", "Agus", "Dewi", "Rina", "Hendra", "Fitri", "Yusuf", "Ratna", "Andi"]
_FAMILY = ["Santoso", "Rahmawati", "Setiawan", "Anggraeni", "Pratama", "Hidayat", "Kusuma"]
_STREETS = ["Raya Kerobokan", "Sunset Road", "Raya Uluwatu", "Gatot Subroto", "Raya Sempidi"]
_KECAMATAN_CODES = ["01", "02", "03", "04", "05", "06"]


def village_for(lat: float, lng: float) -> dict[str, Any]:
    """The nearest known village to a point: deterministic, good enough for routing tests."""
    desa, kecamatan, _, _, opd_id, opd_name = min(
        VILLAGES, key=lambda v: (v[2] - lat) ** 2 + (v[3] - lng) ** 2
    )
    return {"desa": desa, "kecamatan": kecamatan, "opd_id": opd_id, "opd_name": opd_name}


def fake_reporter(rng: random.Random) -> dict[str, Any]:
    """A plausible Badung resident: name, 16-digit NIK, 08… phone number and e-mail address."""
    if rng.random() < 0.6:
        name = f"{rng.choice(_BALINESE_PREFIX)} {rng.choice(_BALINESE_NAMES)}"
    else:
        name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
    birth = datetime(1960, 1, 1) + timedelta(days=rng.randint(0, 16000))
    female = name.startswith("Ni ") or rng.random() < 0.3
    # NIK: province+regency (5103 = Bali, Badung), kecamatan, birth date (day+40 for women), serial
    day = birth.day + (40 if female else 0)
    nik = f"5103{rng.choice(_KECAMATAN_CODES)}{day:02d}{birth:%m%y}{rng.randint(1, 9999):04d}"
    local = ".".join(name.lower().split()[-2:]).replace(" ", "")
    return {
        "pelapor": name,
        "user_id": rng.randint(1000, 9999),
        "nik": nik,
        "telp": f"08{rng.choice(['12', '13', '21', '57', '77'])}{rng.randint(10**7, 10**8 - 1)}",
        "email": f"{local}{rng.randint(1, 99)}@{rng.choice(['gmail.com', 'yahoo.co.id'])}",
    }


def fake_address(rng: random.Random, desa: str, kecamatan: str) -> str:
    return f"Jl. {rng.choice(_STREETS)} No. {rng.randint(1, 200)}, {desa}, {kecamatan}, Badung"


def tiny_png(seed: int) -> bytes:
    """A valid 1x1 PNG whose colour depends on `seed`."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixel = bytes([0, seed % 256, (seed * 7) % 256, (seed * 13) % 256])  # filter byte + RGB
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def tiny_pdf(text: str) -> bytes:
    """A minimal one-page PDF; viewers tolerate the missing xref table."""
    safe = text.replace("\\", "").replace("(", "").replace(")", "")[:60]
    stream = f"BT /F1 12 Tf 20 40 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 80] /Contents 4 0 R /Resources"
        b" << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    body = b"".join(b"%d 0 obj\n%s\nendobj\n" % (i, obj) for i, obj in enumerate(objects, 1))
    return b"%PDF-1.4\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
