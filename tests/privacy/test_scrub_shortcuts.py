"""Scrubbing skips the regex passes that cannot match, and only those."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.privacy import identity
from bridge.privacy.identity import MARKER, scrub_identity


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        # ASCII: decided by lower-casing, in any case.
        ("NAMA SAYA Budi Santoso", (), f"NAMA SAYA {MARKER}"),
        ("dari bUDI", ("Budi Santoso",), f"dari {MARKER}"),
        ("surat ke WARGA@EXAMPLE.ID", (), f"surat ke {MARKER}"),
        ("jalan rusak", ("Budi",), "jalan rusak"),
        # Not ASCII: Unicode case-insensitive matching has exceptions, so the regex decides.
        ("dari \u212austi", ("Kusti",), f"dari {MARKER}"),  # the Kelvin sign matches "k"
        ("dari Su\u017fanto", ("Susanto",), f"dari {MARKER}"),  # the long s matches "s"
        ("nama\u00a0saya Made Wirawan", (), f"nama\u00a0saya {MARKER}"),
    ],
)
def test_a_skipped_pass_is_one_that_could_not_have_matched(
    text: str, names: tuple[str, ...], expected: str
) -> None:
    """Each text is scrubbed exactly as by running every pass."""
    assert scrub_identity(text, names) == expected


def _every_pass(text: str, names: tuple[str, ...]) -> str:
    """The definition: every regex pass of ``scrub_identity``, none skipped."""
    if not text:
        return text
    text = identity.EMAIL_SHAPE.sub(MARKER, text)
    text = identity.NIK_SHAPE.sub(MARKER, text)
    text = identity.PHONE_SHAPE.sub(MARKER, text)
    text = identity.INTRODUCED_NAME.sub(
        lambda m: m.group(0)[: m.start(1) - m.start(0)] + MARKER, text
    )
    pattern = identity._name_pattern(names)
    return pattern.sub(MARKER, text) if pattern is not None else text


# Digits (ASCII and Arabic-Indic), the separators numbers are grouped by, and the
# characters a phone, an e-mail or an introduction starts with.
_PIECES = st.sampled_from(
    ["0", "8", "1", "6", "2", "9", "\u0663", " ", ".", "-", "+", "@", "x.id", "nama saya ", "Budi"]
)


@given(st.lists(_PIECES, max_size=40).map("".join))
@settings(max_examples=400, deadline=None)
def test_counting_digits_scrubs_exactly_as_every_pass(text: str) -> None:
    """Texts of digits, separators and near-misses: the same result as running every pass."""
    assert scrub_identity(text, ("Budi Santoso",)) == _every_pass(text, ("Budi Santoso",))


def test_a_text_with_too_few_digits_is_not_scanned_for_nik_or_phone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seven digits cannot be a NIK (16) nor a phone number (8): those passes do not run."""

    class Unused:
        def sub(self, *_: object) -> str:
            raise AssertionError("scanned a text that cannot hold a NIK or a phone number")

    monkeypatch.setattr(identity, "NIK_SHAPE", Unused())
    monkeypatch.setattr(identity, "PHONE_SHAPE", Unused())
    assert scrub_identity("lampu mati sejak tgl 12-08, tiang 7", ()) == (
        "lampu mati sejak tgl 12-08, tiang 7"
    )
