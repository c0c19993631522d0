"""Scrubbing skips the regex passes that cannot match, and only those."""

from __future__ import annotations

import pytest

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
