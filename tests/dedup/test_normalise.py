"""Indonesian normalisation, MinHash band keys and hashed reporter keys."""

from __future__ import annotations

from bridge.dedup.minhash import BANDS, band_keys
from bridge.dedup.normalise import normalise, text_hash
from bridge.dedup.reporter import reporter_keys
from bridge.model import Complaint, Reporter

BODY = (
    "Yth. Dinas Pekerjaan Umum Kota Bandung, <br><br>Jalan di depan gang Melati sudah rusak "
    "parah sejak bulan lalu dan belum diperbaiki. Mohon ditindaklanjuti, terima kasih"
)


def test_sms_abbreviations_and_elongation_reach_the_standard_spelling() -> None:
    """'yg', 'tdk', 'sdh', 'jln', 'gg' and 'parahhh' read as their standard forms."""
    assert normalise("Jln di gg Melati yg rusak sdh parahhh, tdk diperbaiki") == (
        "jalan di gang melati yang rusak sudah parah tidak diperbaiki"
    )


def test_salutations_addressee_and_closing_formulas_are_dropped() -> None:
    """'Yth. <agency>,', HTML and 'Mohon ditindaklanjuti, terima kasih' say nothing: gone."""
    normal = normalise(BODY)
    assert normal.startswith("jalan di depan gang melati")
    assert "yth" not in normal and "ditindaklanjuti" not in normal and "kasih" not in normal


def test_an_sms_style_copy_has_the_same_exact_hash() -> None:
    """The same complaint typed with SMS abbreviations and no salutation hashes alike."""
    sms = "jln di depan gg melati sdh rusak parahhh sejak bln lalu dan blm diperbaiki"
    assert text_hash(normalise(sms)) == text_hash(normalise(BODY))


def test_band_keys_are_stable_and_shared_by_near_copies() -> None:
    """The same text gives the same keys; a slightly edited copy shares most bands."""
    text = normalise(BODY * 3)
    keys = band_keys(text)
    assert len(keys) == BANDS and keys == band_keys(text)
    edited = band_keys(text.replace("parah", "parha", 1))
    assert len(set(keys) & set(edited)) >= BANDS // 2
    other = band_keys(normalise("Pelayanan KTP elektronik di kecamatan lambat sekali, antre lama"))
    assert not set(keys) & set(other)


def test_reporter_keys_are_hashed_alike_across_spellings_and_absent_when_anonymous() -> None:
    """+62 and 0 prefixes, upper-case e-mail: one key each; nothing in clear; none if anonim."""
    a = Complaint(
        source_id="1", title="t", content="c",
        reporter=Reporter(phone="+62 812-3456-789", email="Warga@Example.ID", nik="5103 0101"),
    )  # fmt: skip
    b = a.model_copy(update={"reporter": Reporter(phone="0812 3456 789", email="warga@example.id")})
    keys_a, keys_b = reporter_keys(a, b"k"), reporter_keys(b, b"k")
    assert set(keys_b) <= set(keys_a) and len(keys_b) == 2
    assert not any("812" in key or "warga" in key for key in keys_a)
    assert reporter_keys(a, b"other") != keys_a  # keyed per ledger
    assert reporter_keys(a.model_copy(update={"is_anonymous": True}), b"k") == []
