"""Each draft of `bridge mapping suggest --sql` syncs end to end, after only the edits it asks for.

For the six real-world schema shapes of ``tests/mapping/suggest_schemas.py``: the shape's
database on the real server (MariaDB or PostgreSQL), the draft written from it, the answer
given to each ``# EDIT:`` comment (and nothing else changed), ``bridge mapping check``, then
the route door → LAPOR! simulator over loopback HTTP with the real config loader, connectors
and ledger. Every complaint lands in LAPOR! once, a second cycle creates nothing, the door's
responses arrive as follow-ups once, anonim hides the reporter, rahasia is withheld unless
LAPOR! is marked ``receives_confidential``, and the original date and the door's status
travel in the text (``lapor.toml``'s ``unsent_note``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text as sql

from bridge.connectors.sql_suggest_draft import suggest
from bridge.connectors.sql_values import database_url
from bridge.demo import mappings_dir
from bridge.mapping import check_mappings
from bridge.testing.simulators import lapor
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.server import serve_in_thread
from tests.e2e.sql_door import LAPOR_HEAD, sync_route
from tests.mapping.suggest_schemas import CODEIGNITER, SHAPES, Shape, database
from tests.simulated import hub_by_ref

pytestmark = pytest.mark.e2e

ROUTE = "app-to-lapor"
_CONFIG = (
    LAPOR_HEAD
    + """receives_confidential = {confidential}

[connectors.app]
type = "sql"
url = "{db_url}"
mapping = "{mapping}"

[[routes]]
name = "{route}"
source = "app"
target = "lapor"
"""
)


@dataclass(frozen=True)
class Expected:
    """What a shape's draft asks and what LAPOR! must hold after the sync."""

    answers: dict[str, str] = field(default_factory=dict)
    """The answer to each EDIT comment: the draft line's key → the line a person writes."""
    notes: dict[str, str] = field(default_factory=dict)
    """A complaint's text → the line LAPOR! must carry after it (original date, local status)."""
    anonymous: frozenset[str] = frozenset()
    """Texts of complaints whose reporter asked to stay anonymous."""
    secret: frozenset[str] = frozenset()
    """Texts of rahasia complaints."""
    answered: dict[str, list[str]] = field(default_factory=dict)
    """A complaint's text → the door's responses LAPOR! must hold as its follow-ups."""
    later: tuple[str, ...] = ()
    """Responses the door adds after the first cycles (stamped by the database's clock)."""
    answered_later: dict[str, list[str]] = field(default_factory=dict)
    """What ``later`` adds to LAPOR!'s follow-ups, by complaint text."""


NATIVE_LATER = (
    "INSERT INTO tanggapan (id_pengaduan, tgl_tanggapan, tanggapan, id_petugas) "
    "VALUES (1, CURDATE(), 'Akan ditambal', 1)"
)
NOTE = "Tanggal pengaduan asli: {}; status di app: {}"
EXPECTED = {
    "native-php-updated-at": Expected(
        notes={"Jalan berlubang": NOTE.format("01-03-2026 00:00 WIB", "0")},
        answered={"Lampu mati": ["Sudah diganti"]},
        # A tanggapan does not touch pengaduan.updated_at: the cursor must still notice it.
        later=(NATIVE_LATER,),
        answered_later={"Jalan berlubang": ["Akan ditambal"]},
    ),
    "native-php-no-updated-at": Expected(
        notes={"Lampu mati": NOTE.format("02-03-2026 00:00 WIB", "proses")},
        anonymous=frozenset({"Jalan berlubang"}),
        answered={"Lampu mati": ["Sudah diganti"]},
        later=(NATIVE_LATER,),
        answered_later={"Jalan berlubang": ["Akan ditambal"]},
    ),
    "laravel": Expected(
        # Laravel's status 'in_review' is the app's own word: the draft asks what it means.
        answers={'"in_review"': '"in_review" = "in_progress"'},
        # Written in UTC by Laravel (APP_TIMEZONE), shown in LAPOR!'s WIB.
        notes={"Sampah menumpuk": NOTE.format("01-03-2026 08:00 WIB", "pending")},
        anonymous=frozenset({"Sampah menumpuk"}),
        answered={"Parkir liar": ["Sudah ditertibkan"]},
        later=(
            "INSERT INTO responses (complaint_id, user_id, body, created_at, updated_at) "
            "VALUES (2, 1, 'Sedang dikerjakan', UTC_TIMESTAMP(), UTC_TIMESTAMP())",
        ),
        answered_later={"Selokan mampet": ["Sedang dikerjakan"]},
    ),
    "codeigniter4": Expected(
        notes={"Jalan rusak": NOTE.format("02-03-2026 15:00 WIB", "diproses")},
        secret=frozenset({"Pungutan liar di kantor desa"}),
        answered={"Jalan rusak": ["Dijadwalkan"]},
        # The answer to the rahasia complaint stays withheld with it.
        later=(
            "INSERT INTO tanggapan (id_pengaduan, tanggapan, created_at, updated_at) VALUES "
            "(1, 'Petugas menuju lokasi', UTC_TIMESTAMP(), UTC_TIMESTAMP()), "
            "(3, 'Sedang diperiksa', UTC_TIMESTAMP(), UTC_TIMESTAMP())",
        ),
        answered_later={"Air PDAM mati": ["Petugas menuju lokasi"]},
    ),
    "prisma-postgres": Expected(
        notes={"Got tersumbat": NOTE.format("02-03-2026 08:00 WIB", "CLOSED")},
        anonymous=frozenset({"Pohon tumbang"}),
        answered={"Got tersumbat": ["Sudah dibersihkan"]},
        later=(
            'INSERT INTO "Comment" (id, body, "complaintId", "createdAt") VALUES '
            "('clu1m0000002', 'Tim dikirim', 'clu1c0000001', LOCALTIMESTAMP)",
        ),
        answered_later={"Pohon tumbang": ["Tim dikirim"]},
    ),
    "laravel-ulid": Expected(
        notes={"Trotoar rusak": NOTE.format("01-03-2026 08:00 WIB", "submitted")},
    ),
}
"""Per shape. The number of answers is the number of edits the draft asks for (issue 12)."""


def answered(draft: str, answers: dict[str, str]) -> str:
    """``draft`` with each ``# EDIT:`` line replaced by its answer, and nothing else changed."""
    lines = draft.splitlines()
    asked = [i for i, line in enumerate(lines) if "# EDIT:" in line]
    keys = [lines[i].split("=", 1)[0].strip() for i in asked]
    assert sorted(keys) == sorted(answers), f"the draft asks other edits: {keys}"
    for i, key in zip(asked, keys, strict=True):
        lines[i] = answers[key]
    return "\n".join(lines) + "\n"


@contextmanager
def door(shape: Shape, tmp_path: Path, *, confidential: bool = False) -> Iterator[Door]:
    """The shape's database, its draft (edits answered and checked), LAPOR! and a config."""
    with database(shape) as url:
        draft = suggest(url)
        expected = EXPECTED[shape.name]
        assert draft.edits == len(expected.answers), draft.text
        mapping = tmp_path / "draft.toml"
        mapping.write_text(answered(draft.text, expected.answers), encoding="utf-8")
        assert check_mappings([mapping]) == {mapping: []}
        state = LaporState()
        with serve_in_thread(lapor.create_app(state)) as hub:
            config = tmp_path / "bridge.toml"
            config.write_text(
                _CONFIG.format(
                    ledger=tmp_path / "bridge.db",
                    lapor_url=hub.url,
                    mappings=mappings_dir(),
                    confidential=str(confidential).lower(),
                    db_url=url,
                    mapping=mapping,
                    route=ROUTE,
                ),
                encoding="utf-8",
            )
            yield Door(config, state, url)


@dataclass
class Door:
    config: Path
    hub: LaporState
    url: str

    def execute(self, statements: tuple[str, ...]) -> None:
        """Run ``statements`` in the door's database, as the app would."""
        engine = create_engine(database_url(self.url, None, "test"))
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(sql(statement))
        finally:
            engine.dispose()

    def by_text(self) -> dict[str, dict[str, Any]]:
        """LAPOR!'s complaints by their door text (the unsent note cut off); each once."""
        copies = hub_by_ref(self.hub.complaints.values())
        assert all(len(found) == 1 for found in copies.values()), copies
        assert len(copies) == len(self.hub.complaints)
        return {c["content"].split("\n\n")[0]: c for [c] in copies.values()}


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_the_draft_syncs_every_complaint_to_lapor_once(shape: Shape, tmp_path: Path) -> None:
    """Draft + its edits: each complaint in LAPOR! once with its note, flags and responses."""
    expected = EXPECTED[shape.name]
    with door(shape, tmp_path) as app:
        first = sync_route(app.config, ROUTE)
        second = sync_route(app.config, ROUTE)
        assert first.ok, first.error
        assert second.ok, second.error
        assert first.counts["create"] == shape.complaints - len(expected.secret)
        assert first.counts["withhold"] == len(expected.secret)
        assert second.counts.get("create", 0) == 0
        before = {text: [f["content"] for f in c["followups"]] for text, c in app.by_text().items()}
        app.execute(expected.later)
        for _ in range(2):  # the door's new answers, then a cycle that must not send them again
            report = sync_route(app.config, ROUTE)
            assert report.ok, report.error
            assert report.counts.get("create", 0) == 0
        hub = app.by_text()
    assert not set(hub) & expected.secret  # rahasia: not sent to a target not cleared for it
    assert len(hub) == shape.complaints - len(expected.secret)
    for text, line in expected.notes.items():
        assert hub[text]["content"] == f"{text}\n\n{line}"
    assert all(
        re.search(r"\n\nTanggal pengaduan asli: \d\d-\d\d-2026", c["content"]) for c in hub.values()
    )
    for text, complaint in hub.items():
        anonymous = text in expected.anonymous
        assert complaint["is_anonymous"] == int(anonymous), text
        # On the wire as JSON booleans, as the real LAPOR! clients send them.
        assert complaint["payload"]["is_anonymous"] is anonymous, text
        assert complaint["payload"]["is_secret"] is False, text
        assert ("nameUser" in complaint["payload"]) is not anonymous, text
    assert before == {text: expected.answered.get(text, []) for text in hub}
    after = {text: [f["content"] for f in c["followups"]] for text, c in hub.items()}
    later = expected.answered_later
    assert after == {text: before[text] + later.get(text, []) for text in hub}


def test_a_rahasia_row_goes_to_a_target_cleared_for_it(tmp_path: Path) -> None:
    """LAPOR! marked receives_confidential: the rahasia row arrives too, marked is_secret."""
    with door(CODEIGNITER, tmp_path, confidential=True) as app:
        report = sync_route(app.config, ROUTE)
        assert report.ok, report.error
        assert report.counts["create"] == CODEIGNITER.complaints
        hub = app.by_text()
    assert {text: c["is_secret"] for text, c in hub.items()} == {
        "Air PDAM mati": 0,
        "Jalan rusak": 0,
        "Pungutan liar di kantor desa": 1,
    }
    assert hub["Pungutan liar di kantor desa"]["payload"]["is_secret"] is True
