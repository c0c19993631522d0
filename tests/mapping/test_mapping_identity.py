"""Identity across systems: natural keys of complaints and fingerprints of follow-ups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bridge.mapping import Mapping, followup_fingerprint, load_mapping
from bridge.model import Attachment, Complaint, FollowUp

KEYED = """
[mapping]
system = "keyed"
timezone = "Asia/Jakarta"
id = "id"
natural_key = ["title", "incident_date", "created_at", "is_secret"]
[fields]
title = "judul"
content = "isi"
incident_date = "tgl"
created_at = "dibuat"
is_secret = "rahasia"
"""


def complaint(**changes: Any) -> Complaint:
    values: dict[str, Any] = {
        "source_id": "1",
        "title": "Jalan Rusak",
        "content": "Di depan pasar.",
        "incident_date": date(2024, 2, 5),
        "created_at": datetime(2024, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta")),
    }
    return Complaint(**(values | changes))


@pytest.fixture
def keyed(write_mapping: Callable[..., Path]) -> Mapping:
    return load_mapping(write_mapping(KEYED))


def test_natural_key_normalises_text_dates_times_and_flags(keyed: Mapping) -> None:
    """Text is stripped, collapsed and case-folded; dates ISO; times ISO in UTC; flags words."""
    assert keyed.natural_key_of(complaint(title="  Jalan\n\t RUSAK ")) == (
        "jalan rusak",
        "2024-02-05",
        "2024-03-01T03:00:00+00:00",
        "false",
    )


def test_natural_key_matches_the_same_instant_in_another_zone(keyed: Mapping) -> None:
    """10:00 WIB and 11:00 WITA are the same moment, so the keys are equal."""
    wita = datetime(2024, 3, 1, 11, 0, tzinfo=ZoneInfo("Asia/Makassar"))
    assert keyed.natural_key_of(complaint(created_at=wita)) == keyed.natural_key_of(complaint())


@pytest.mark.parametrize(
    "changes", [{"incident_date": None}, {"created_at": None}, {"title": "  \n "}]
)
def test_natural_key_is_none_when_a_part_is_missing(
    keyed: Mapping, changes: dict[str, Any]
) -> None:
    """A missing or blank part means no key: never a partial match."""
    assert keyed.natural_key_of(complaint(**changes)) is None


def test_lapor_natural_key_is_title_and_content(lapor: Mapping) -> None:
    """LAPOR! identifies a hand-typed complaint by its title and text."""
    assert lapor.natural_key == ("title", "content")
    typed = complaint(title="Jalan  rusak ", content="DI DEPAN\npasar.")
    assert lapor.natural_key_of(typed) == lapor.natural_key_of(complaint())
    assert lapor.natural_key_of(complaint()) == ("jalan rusak", "di depan pasar.")


# ---- follow-up fingerprints -----------------------------------------------------------------


def followup(**changes: Any) -> FollowUp:
    values: dict[str, Any] = {
        "source_id": "5",
        "content": "Jalan sudah diperbaiki.\nTerima kasih.",
        "author": "Dinas PUPR",
        "institution_from": "1001",
        "created_at": datetime(2024, 3, 4, 8, 0, tzinfo=ZoneInfo("Asia/Makassar")),
        "attachments": (Attachment(filename="a.jpg"), Attachment(filename="b.pdf")),
    }
    return FollowUp(**(values | changes))


def test_fingerprint_is_32_hex_characters() -> None:
    """The fingerprint is the first 32 hex digits of a sha256."""
    fingerprint = followup_fingerprint(followup())
    assert len(fingerprint) == 32
    assert int(fingerprint, 16) >= 0


@pytest.mark.parametrize(
    "changes",
    [
        {"content": "Jalan sudah diperbaiki.<br />Terima kasih."},
        {"content": "Jalan sudah diperbaiki.<br>Terima kasih."},
        {"content": "<p>Jalan  sudah diperbaiki.</p>\r\n<p>Terima kasih.</p> "},
        {"content": "  Jalan sudah\u00a0diperbaiki.   Terima kasih.\n"},
        {"author": "SP4N-LAPOR! bridge", "institution_from": "77", "institution_to": "1001"},
        {"created_at": None, "source_id": "lapor-991", "is_official": True},
        {"attachments": (Attachment(filename="b.pdf", url="u"), Attachment(filename="a.jpg"))},
    ],
)
def test_fingerprint_ignores_what_copies_change(changes: dict[str, Any]) -> None:
    """<br> vs newline, spacing, author, institution, time, id and file order leave it unchanged."""
    assert followup_fingerprint(followup(**changes)) == followup_fingerprint(followup())


@pytest.mark.parametrize(
    "changes",
    [
        {"content": "Jalan sudah diperbaiki. Terima kasih banyak."},
        {"content": "jalan sudah diperbaiki. terima kasih."},
        {"attachments": (Attachment(filename="a.jpg"),)},
        {"attachments": (Attachment(filename="a.jpg"), Attachment(filename="c.pdf"))},
    ],
)
def test_fingerprint_changes_with_text_case_or_files(changes: dict[str, Any]) -> None:
    """Different words, different letter case or different files give a different fingerprint."""
    assert followup_fingerprint(followup(**changes)) != followup_fingerprint(followup())


def test_fingerprint_keeps_comparisons_that_look_like_tags() -> None:
    """'nilai < 5 > 3' is text, not a tag: it is not stripped away."""
    assert followup_fingerprint(followup(content="nilai < 5 > 3")) != followup_fingerprint(
        followup(content="nilai 3")
    )
