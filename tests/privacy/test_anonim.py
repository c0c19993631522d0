"""anonim end to end: the reporter's identity leaves in no field, text, file name or reply."""

from __future__ import annotations

from dataclasses import replace

from bridge.ledger import Ledger
from bridge.model import Attachment, Complaint, FollowUp, Location, Reporter
from bridge.privacy.identity import MARKER, scrub_file_name, scrub_identity
from bridge.sync import run_cycle
from bridge.sync.anonymity import anonymous_reply
from bridge.sync.outgoing import Outgoing, outgoing
from tests.engine.conftest import door_of, door_record, hub_of, make_route

NAME = "Made Wirawan"
TEXT = (
    "Saya Made Wirawan, NIK 3171 0112 0190 0001, HP 0812-3456-7890, wa +62 812.3456.7890, "
    "surel made.w@contoh.id. MADE  wirawan minta jalan diperbaiki. Nama saya Ketut Sari."
)
SPELLINGS = ("Made", "Wirawan", "3171", "0812", "812", "made.w@", "Ketut", "Sari")


def _complaint(**changes: object) -> Complaint:
    base = Complaint(
        source_id="1",
        title="Laporan dari Made Wirawan",
        content=TEXT,
        is_anonymous=True,
        reporter=Reporter(name=NAME, nik="3171011201900001", phone="081234567890"),
        location=Location(address="Jl. Raya Kuta 5", lat=-8.6, lng=115.2, location_id="5103"),
        attachments=(Attachment(filename="KTP_Made_Wirawan_3171011201900001.jpg"),),
        category="infrastruktur",
    )
    return base.model_copy(update=changes)


def test_scrub_identity_masks_every_common_spelling() -> None:
    """Name in any case and spacing, spaced/dotted NIK and phone, e-mail, introduced names."""
    scrubbed = scrub_identity(TEXT, [NAME])
    for spelling in SPELLINGS:
        assert spelling.lower() not in scrubbed.lower(), spelling
    assert MARKER in scrubbed and "minta jalan diperbaiki" in scrubbed


def test_scrub_identity_leaves_ordinary_numbers() -> None:
    """Amounts, years and house numbers are not identities."""
    text = "Rp 150.000 pada 2024, rumah no 12, RT 03/RW 05"
    assert scrub_identity(text, [NAME]) == text


def test_scrub_file_name_keeps_the_extension() -> None:
    """KTP_<nama>_<NIK>.jpg loses name and NIK; an innocent file name is untouched."""
    assert scrub_file_name("KTP_Made_5103011201900001.jpg", [NAME]) == (
        "KTP_disamarkan_disamarkan.jpg"
    )
    assert scrub_file_name("foto_jalan.jpg", [NAME]) == "foto_jalan.jpg"


def test_outgoing_anonymous_complaint_carries_no_identity(ledger: Ledger) -> None:
    """The payload for an anonim complaint has no name, NIK, phone, address or coordinates."""
    route = make_route(ledger)
    result = outgoing(route, _complaint(), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    sent = repr(result.payload) + repr(result.complaint.attachments)
    for spelling in (*SPELLINGS, "Raya Kuta", "115.2"):
        assert spelling.lower() not in sent.lower(), spelling
    assert result.complaint.location.location_id == "5103"


def test_the_route_may_keep_text_and_location(ledger: Ledger) -> None:
    """scrub_anonymous_text = false and send_anonymous_location = true are honoured."""
    route = replace(make_route(ledger), scrub_anonymous_text=False, send_anonymous_location=True)
    result = outgoing(route, _complaint(), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    assert result.complaint.content.startswith("Saya Made Wirawan")
    assert result.complaint.location.address == "Jl. Raya Kuta 5"
    assert result.complaint.reporter.is_empty()


def test_a_public_complaint_is_sent_as_written(ledger: Ledger) -> None:
    """Scrubbing is for anonim complaints only."""
    route = make_route(ledger)
    result = outgoing(route, _complaint(is_anonymous=False), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    assert result.complaint.content == TEXT


def test_a_reply_to_an_anonymous_complaint_leaves_without_identity() -> None:
    """The citizen's own reply is copied without name, its text and file names scrubbed."""
    reply = FollowUp(
        source_id="f1",
        content="Saya Made Wirawan, hubungi 0812 3456 7890",
        author=NAME,
        attachments=(Attachment(filename="KTP_Made.jpg"),),
    )
    sent = anonymous_reply(_complaint(), reply, scrub_text=True)
    assert sent.author is None and "Made" not in sent.content and "0812" not in sent.content
    assert sent.attachments[0].filename == "KTP_disamarkan.jpg"
    assert anonymous_reply(_complaint(), reply, scrub_text=False).content == reply.content
    assert anonymous_reply(_complaint(is_anonymous=False), reply, scrub_text=True) == reply


def test_an_officers_answer_to_an_anonymous_complaint_keeps_its_author_and_words() -> None:
    """An official answer keeps its author and text; only the reporter's identity is scrubbed."""
    answer = FollowUp(
        source_id="f2",
        content="Tanggapan petugas PUPR untuk Bapak Made Wirawan: jalan diperbaiki minggu ini",
        author="Petugas PUPR",
        is_official=True,
    )
    sent = anonymous_reply(_complaint(), answer, scrub_text=True)
    assert sent.author == "Petugas PUPR"
    expected = f"Tanggapan petugas PUPR untuk Bapak {MARKER}: jalan diperbaiki minggu ini"
    assert sent.content == expected


def test_an_anonymous_door_complaint_reaches_the_hub_scrubbed(ledger: Ledger) -> None:
    """End to end over memory connectors: the hub's record holds none of the identity."""
    route = make_route(ledger)
    door_of(route).put(door_record(1, hide_identitas=1, uraian=TEXT))
    run_cycle(route)
    [created] = hub_of(route).records()
    for spelling in (*SPELLINGS, "Raya Kuta"):
        assert spelling.lower() not in repr(created).lower(), spelling
