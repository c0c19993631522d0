"""A value map's fallback: an unmapped code delivers the record with the fallback, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bridge.errors import ConfigError
from bridge.mapping import load_mapping

MAPPINGS = Path(__file__).parents[2] / "mappings"


def lapor_record(category: int) -> dict[str, object]:
    return {
        "id": 7,
        "title": "Jalan rusak",
        "content": "Jalan rusak parah",
        "category_id": category,
    }


def test_an_unknown_lapor_category_reads_as_the_fallback_and_is_logged() -> None:
    """LAPOR! category 436 (not in the table) reads as "lainnya", named in a warning."""
    mapping = load_mapping(MAPPINGS / "lapor.toml")
    with capture_logs() as logs:
        complaint = mapping.to_canonical(lapor_record(436))
    assert complaint.category == "lainnya"
    [logged] = logs
    assert (logged["event"], logged["table"]) == ("mapping.code.unknown", "category")
    assert "436" in logged["code"]


def test_an_unknown_canonical_category_is_written_as_the_fallbacks_code() -> None:
    """A category LAPOR!'s table lacks is written with the fallback's code, not refused."""
    mapping = load_mapping(MAPPINGS / "lapor.toml")
    complaint = mapping.to_canonical(lapor_record(1)).model_copy(update={"category": "banjir"})
    assert mapping.to_native(complaint)["category_id"] == 8


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('fallback = "tidak-ada"', r"is not a value of \[values.category\]"),
        ('fallback = "lainnya", on_unknown = "null"', "fallback replaces on_unknown"),
    ],
)
def test_a_wrong_fallback_is_a_config_error(tmp_path: Path, spec: str, message: str) -> None:
    """A fallback outside the table, or beside on_unknown, fails at load naming the fix."""
    text = (MAPPINGS / "lapor.toml").read_text()
    text = text.replace('fallback = "lainnya" }', spec + " }", 1)
    (tmp_path / "lapor.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_mapping(tmp_path / "lapor.toml")
