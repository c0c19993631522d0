"""Duplicates within one page: a new record compared with the page's earlier creates."""

from __future__ import annotations

from datetime import UTC, datetime

from bridge.dedup import DedupRules, Probe, probe_of
from bridge.dedup.page import page_twin
from bridge.model import Complaint, Reporter

NOW = datetime(2026, 3, 1, tzinfo=UTC)
RULES = DedupRules()
TEXT = (
    "Yth. Bapak/Ibu, lampu penerangan jalan di Jl. Melati gang 3 kelurahan Sukamaju sudah "
    "mati dua minggu, mohon segera diperbaiki karena rawan kejahatan"
)


def probe(source_id: str, content: str, phone: str | None = None) -> Probe:
    complaint = Complaint(
        source_id=source_id,
        title="Lampu jalan mati",
        content=content,
        reporter=Reporter(phone=phone),
    )
    return probe_of(complaint, b"k", NOW)


def test_an_exact_copy_on_the_page_links_to_the_earlier_create() -> None:
    """The same text typed twice → a link verdict naming the first create's ref."""
    verdict = page_twin(probe("2", TEXT.upper()), [("ref-1", probe("1", TEXT))], RULES)
    assert verdict.link is not None and verdict.link.ref == "ref-1" and verdict.link.exact


def test_the_same_reporter_with_similar_text_links_and_a_stranger_does_not() -> None:
    """Shared hashed phone + a reworded text → link; different text, no phone → no verdict."""
    first = probe("1", TEXT, phone="+62 812 0001 111")
    reworded = probe("2", TEXT.replace("dua minggu", "2 minggu ini"), phone="0812-0001-111")
    verdict = page_twin(reworded, [("ref-1", first)], RULES)
    assert verdict.link is not None and verdict.link.shared_keys == ("phone",)
    stranger = probe("3", "antrean pembuatan ktp elektronik di kecamatan lama sekali berbulan")
    assert page_twin(stranger, [("ref-1", first)], RULES) == page_twin(stranger, [], RULES)
