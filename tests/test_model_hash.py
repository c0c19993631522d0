"""The content hash's bytes: every ledger keeps these digests, so they may never change meaning.

``content_hash`` spells the JSON it digests directly (bridge/model.py ``_hashed_json``); the
reference below is the definition it had before, pydantic's JSON-mode dump encoded by
``json.dumps``. They must agree byte for byte on everything a complaint can hold.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.model import (
    Attachment,
    Complaint,
    FollowUp,
    Location,
    Reporter,
    Status,
    change_hash,
    content_hash,
)

HASHED = {"title", "content", "category", "classification", "report_type", "reporter"}
HASHED |= {"location", "incident_date", "is_anonymous", "is_secret", "status", "institution_id"}

# Any text validation accepts: control characters, U+2028/U+2029, quotes, backslashes, emoji.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30) | st.sampled_from(
    ["", '"', "\\", "\u2028\u2029", "\x00\x1f\x7f", "</script>", "ñé漢字🙂", "a\nb\tc\rd"]
)
OPTIONAL = st.none() | TEXT
EDGES = [1e16, 1e-5, -0.0, 5e-324, 1.7976931348623157e308, 115.2, -8.6]
FLOAT = st.none() | st.floats() | st.sampled_from(EDGES)


def reference_hash(complaint: Complaint) -> str:
    """``content_hash`` as it was defined (and every stored digest was made) before."""
    payload: dict[str, Any] = complaint.model_dump(mode="json", include=HASHED)
    payload["attachments"] = sorted(a.filename for a in complaint.attachments)
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


@st.composite
def complaints(draw: st.DrawFn) -> Complaint:
    reporter = Reporter(**{k: draw(OPTIONAL) for k in ("name", "nik", "phone", "email", "user_id")})
    texts = ("address", "province", "regency", "district", "village", "location_id")
    location = Location(lat=draw(FLOAT), lng=draw(FLOAT), **{k: draw(OPTIONAL) for k in texts})
    return Complaint(
        source_id="1",
        title=draw(TEXT),
        content=draw(TEXT),
        category=draw(OPTIONAL),
        classification=draw(OPTIONAL),
        report_type=draw(OPTIONAL),
        institution_id=draw(OPTIONAL),
        reporter=reporter,
        location=location,
        incident_date=draw(st.none() | st.dates()),
        is_anonymous=draw(st.booleans()),
        is_secret=draw(st.booleans()),
        status=draw(st.none() | st.sampled_from(Status)),
        attachments=tuple(Attachment(filename=n) for n in draw(st.lists(TEXT, max_size=3))),
        followups=tuple(
            FollowUp(source_id=str(i), content="x") for i in range(draw(st.integers(0, 2)))
        ),
    )


# What model_copy can leave in a complaint unvalidated: the reference path must take those.
ODD = st.sampled_from(
    [
        {"title": 5},
        {"title": "a\ud800b"},
        {"category": 10**30},
        {"status": "new"},
        {"is_secret": 1},
        {"incident_date": "2026-01-01"},
        {"reporter": {"name": "x"}},
        {"location": Location(lat=float("nan"))},
        {"content": Status.NEW},
    ]
)


@settings(max_examples=400, deadline=None)
@given(complaints())
def test_content_hash_bytes_equal_the_reference_for_any_complaint(complaint: Complaint) -> None:
    """Every complaint validation can build digests exactly as the reference encoding did."""
    assert content_hash(complaint) == reference_hash(complaint)


@settings(max_examples=100, deadline=None)
@given(complaints(), ODD)
def test_content_hash_of_unvalidated_values_follows_the_reference(
    complaint: Complaint, update: dict[str, Any]
) -> None:
    """Values put in by model_copy give the reference's digest, or the reference's error."""
    odd = complaint.model_copy(update=update)
    try:
        expected: str | type[Exception] = reference_hash(odd)
    except Exception as exc:  # noqa: BLE001 - its failure, of whatever type, is the expectation
        expected = type(exc)
    try:
        got: str | type[Exception] = content_hash(odd)
    except Exception as exc:  # noqa: BLE001 - compared with the reference's failure
        got = type(exc)
    assert got == expected


def test_content_hash_of_a_known_complaint_is_pinned() -> None:
    """A fixed complaint's digests are the ones ledgers written by earlier versions hold."""
    complaint = Complaint(
        source_id="7",
        title="Jalan rusak \u2028 di Kuta",
        content='Lubang "besar"\nsejak 2 minggu; ñ 漢',
        category="infrastruktur",
        reporter=Reporter(name="Warga", nik="5103010000000007"),
        location=Location(address="Jl. Raya Kuta", lat=-8.6, lng=115.2),
        incident_date=date(2026, 3, 1),
        is_anonymous=True,
        status=Status.NEW,
        attachments=(Attachment(filename="b.jpg"), Attachment(filename="a.pdf")),
    )
    assert content_hash(complaint) == reference_hash(complaint)
    assert content_hash(complaint) == (
        "1e47b4c876b66026ea02f1abf379ad4e4d3cf3819f0c754651c1ddd8bfd08c5a"
    )
    assert change_hash(complaint) == (
        "fb595912a729361bc866394b0ed45b58fc00da30d60272ce52ce739d935049a4"
    )
