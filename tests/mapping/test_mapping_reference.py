"""docs/mapping-reference.md lists exactly the keys the compiler accepts, and its example loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.mapping import AGENCY_KEYS, check_mappings
from bridge.mapping._compile import FOLLOWUP_KEYS, HEAD_KEYS, TOP_KEYS
from bridge.mapping._fields import FIELD_KEYS, ON_UNKNOWN, WRITE_AS
from bridge.mapping._schema import ATTACHMENT_ITEMS, COMPLAINT_FIELDS, FOLLOWUP_FIELDS, NATIVE_TYPES
from bridge.mapping._sync import OWNS_KEYS, STATUS_WRITE_KEYS

REFERENCE = Path(__file__).parents[2] / "docs" / "mapping-reference.md"
KEY_LISTS = {
    "TOP_KEYS": TOP_KEYS,
    "HEAD_KEYS": HEAD_KEYS,
    "FIELD_KEYS": FIELD_KEYS,
    "NATIVE_TYPES": NATIVE_TYPES,
    "ON_UNKNOWN": ON_UNKNOWN,
    "WRITE_AS": WRITE_AS,
    "ATTACHMENT_ITEMS": ATTACHMENT_ITEMS,
    "COMPLAINT_FIELDS": tuple(COMPLAINT_FIELDS),
    "FOLLOWUP_KEYS": FOLLOWUP_KEYS,
    "FOLLOWUP_FIELDS": tuple(FOLLOWUP_FIELDS),
    "OWNS_KEYS": OWNS_KEYS,
    "STATUS_WRITE_KEYS": STATUS_WRITE_KEYS,
    "AGENCY_KEYS": AGENCY_KEYS,
}


def documented(name: str) -> set[str]:
    """The first-column names of the table after ``<!-- keys: NAME -->``."""
    text = REFERENCE.read_text(encoding="utf-8")
    after = text.split(f"<!-- keys: {name} -->", 1)[1]
    table = re.match(r"\s*((?:\|.*\n)+)", after)
    assert table is not None, f"no table after the {name} marker"
    return set(re.findall(r"^\| `([^`]+)` \|", table.group(1), re.M))


@pytest.mark.parametrize("name", sorted(KEY_LISTS))
def test_every_key_the_compiler_accepts_is_documented_and_no_other(name: str) -> None:
    """Each table of the reference names exactly the compiler's keys of that kind."""
    assert documented(name) == set(KEY_LISTS[name])


def test_every_key_list_has_its_table() -> None:
    """Every marker in the reference is one the test knows, so no table goes unchecked."""
    markers = set(re.findall(r"<!-- keys: (\w+) -->", REFERENCE.read_text(encoding="utf-8")))
    assert markers == set(KEY_LISTS)


def test_the_whole_file_example_passes_mapping_check(tmp_path: Path) -> None:
    """The reference's example mapping is valid as printed."""
    text = REFERENCE.read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    assert check_mappings([path]) == {path: []}
