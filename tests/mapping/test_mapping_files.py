"""Loading and validating mapping files: every problem at once, each with file, key and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.errors import ConfigError, MappingError
from bridge.mapping import check_mappings, load_mapping

MAPPINGS = Path(__file__).parents[2] / "mappings"

MINIMAL = """
[mapping]
system = "mini"
timezone = "Asia/Jakarta"
id = "id"
[fields]
title = "judul"
content = "isi"
"""

BROKEN = """
colour = "red"
[mapping]
system = "broken"
timezone = "Asia/Makasar"
id = "id"
[fields]
title = "t"
content = "c"
created_at = { read = "tanggal", type = "datetim" }
"reporter.nama" = "pelapor"
category = { path = "k", map = "kategori" }
"""


def test_every_shipped_mapping_loads() -> None:
    """check_mappings finds no problem in any file under mappings/."""
    files = sorted(MAPPINGS.glob("*.toml"))
    assert {f.name for f in files} >= {"lapor.toml", "sidumas.toml"}
    assert check_mappings(files) == {f: [] for f in files}


def test_broken_mapping_reports_all_problems_at_once(
    write_mapping: Callable[..., Path],
) -> None:
    """One MappingError lists every problem, each naming the file, the key and the fix."""
    path = write_mapping(BROKEN)
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    problems = caught.value.problems
    expected = [
        "top level key 'colour' is unknown; use one of: mapping, fields",
        "[mapping] timezone 'Asia/Makasar' is not a known time zone; use an IANA name",
        "[fields.created_at] type 'datetim' is unknown; use one of: string, int, float, bool, "
        "datetime, date",
        "[fields] 'reporter.nama' is not a canonical field; did you mean 'reporter.name'?",
        "[fields.category] map 'kategori' is not defined; add a [values.kategori] table",
    ]
    for text in expected:
        assert any(text in problem for problem in problems), text
    assert len(problems) == len(expected)
    assert all(problem.startswith(f"{path}: ") for problem in problems)
    assert caught.value.source == str(path)
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('is_secret = { path = "s", format = "%d" }', "format does not apply to a bool field"),
        ('source_id = "id"', "the native id path is set as `id` in [mapping]"),
        (
            'status = { read = "st", map = "st" }\n[values.st]\n"0" = "baru"',
            "'baru' is not a status",
        ),
        ('category = { path = "k", map = "cat" }\n[values.cat]\n"1" = "Jalan Rusak"', "lower-case"),
        ('ticket = { path = "judul" }', "writes 'judul', which [fields.ticket] also writes"),
        ('is_anonymous = { path = "a", write_as = "yes" }', "write_as 'yes' is unknown"),
        ('"location.lat" = { path = "lat", type = "bool" }', "use one of: float, string"),
        ('attachments = "files"', "needs items = { filename"),
        ('tags = { read = "a.0.b", write = "a.0.b" }', "indexes a list"),
        ('"reporter.email" = { path = "x..y" }', "empty or padded segment"),
        (
            'category = { path = "k", map = "c", type = "int" }\n[values.c]\n"x" = "a"',
            "not an integer",
        ),
        ('[values.unused]\n"1" = "a"', "[values.unused] is not used by any field"),
        (
            '[required]\nfields = ["category"]',
            'category is required but not read; add category = "',
        ),
        (
            '[defaults]\nis_anonymous = "ya"',
            "is_anonymous = 'ya' does not fit a field of kind 'bool'",
        ),
    ],
)
def test_each_kind_of_mistake_is_reported_with_its_fix(
    write_mapping: Callable[..., Path], extra: str, message: str
) -> None:
    """A specific mistake yields a problem that says what to change."""
    problems = check_mappings([write_mapping(MINIMAL + extra + "\n")])
    assert any(message in p for p in next(iter(problems.values()))), problems


def test_constant_colliding_with_field_is_reported(write_mapping: Callable[..., Path]) -> None:
    """A constant written to the same native key as a field is a problem, not a silent overwrite."""
    path = write_mapping(MINIMAL + '[constants]\n"judul" = "x"\n')
    assert any("also writes" in p for p in check_mappings([path])[path])


def test_check_mappings_never_raises_for_unreadable_or_invalid_files(
    write_mapping: Callable[..., Path], tmp_path: Path
) -> None:
    """A missing file and a TOML syntax error are reported as problems, not raised."""
    missing = tmp_path / "nope.toml"
    syntax = write_mapping("[mapping\nsystem = 1", name="syntax.toml")
    fine = write_mapping(MINIMAL, name="fine.toml")
    results = check_mappings([missing, syntax, fine])
    assert "cannot be read" in results[missing][0]
    assert "is not valid TOML" in results[syntax][0]
    assert results[fine] == []


def test_mapping_without_mapping_table_or_title_is_reported(
    write_mapping: Callable[..., Path],
) -> None:
    """An empty file lacks [mapping], the time zone, the id, title and content: all reported."""
    path = write_mapping("")
    problems = check_mappings([path])[path]
    for text in ("[mapping] is missing", "timezone is missing", "id must be", "title is required"):
        assert any(text in p for p in problems), text
