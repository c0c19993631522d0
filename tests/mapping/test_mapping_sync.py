"""The two-way sync sections: [owns], [status_write], [transport] and natural_key in [mapping]."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import MappingError, RecordInvalid
from bridge.mapping import Mapping, check_mappings, load_mapping
from bridge.model import Complaint, FollowUp, Status

MAPPINGS = Path(__file__).parents[2] / "mappings"

# A small mapping with a status map whose codes are integers and list "closed" twice.
BASE = """
[mapping]
system = "mini"
timezone = "Asia/Jakarta"
id = "id"
{head}
[fields]
title = "judul"
content = "isi"
status = {{ read = "st", map = "st" }}
[values.st]
"0" = "new"
"3" = "closed"
"9" = "closed"
"""


def mini(extra: str = "", head: str = "") -> str:
    return BASE.format(head=head) + extra + "\n"


def problems_of(write_mapping: Callable[..., Path], text: str) -> list[str]:
    path = write_mapping(text)
    return check_mappings([path])[path]


def assert_reported(problems: list[str], expected: list[str]) -> None:
    for text in expected:
        assert any(text in problem for problem in problems), (text, problems)
    assert len(problems) == len(expected), problems


# ---- the shipped files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lapor.toml", "sidumas.toml"])
def test_shipped_mapping_has_no_problem(name: str) -> None:
    """lapor.toml and sidumas.toml validate, whatever other files under mappings/ do."""
    path = MAPPINGS / name
    assert check_mappings([path]) == {path: []}


def test_lapor_owns_its_workflow_and_the_disposition(lapor: Mapping) -> None:
    """LAPOR! owns its admins' status moves and the institution a complaint is disposed to."""
    assert lapor.owned_statuses == {
        Status.VERIFIED, Status.DISPATCHED, Status.REJECTED, Status.ARCHIVED, Status.POSTPONED
    }  # fmt: skip
    assert lapor.owned_fields == {"institution_id"}


def test_sidumas_owns_the_agency_side_and_its_followups(sidumas: Mapping) -> None:
    """SIDUMAS owns progress, responses and closing, and its own follow-ups."""
    assert sidumas.owned_statuses == {Status.IN_PROGRESS, Status.RESPONDED, Status.CLOSED}
    assert sidumas.owned_fields == {"followups"}


def test_sidumas_writes_integer_status_codes(sidumas: Mapping) -> None:
    """status_to_native for SIDUMAS puts the status map's int code under `status`."""
    assert sidumas.can_write_status
    assert sidumas.status_to_native(Status.IN_PROGRESS) == {"status": 2}
    assert sidumas.status_to_native(Status.CLOSED) == {"status": 3}


def test_sidumas_status_without_code_says_which_statuses_it_takes(sidumas: Mapping) -> None:
    """A status SIDUMAS has no code for is RecordInvalid on `status`, listing what it takes."""
    with pytest.raises(RecordInvalid) as caught:
        sidumas.status_to_native(Status.RESPONDED)
    assert caught.value.field == "status"
    assert "'responded'" in caught.value.reason
    assert "takes: new, verified, in_progress, closed, rejected" in caught.value.reason


def test_lapor_cannot_write_a_status(lapor: Mapping) -> None:
    """LAPOR! has no [status_write]: can_write_status is False and writing one is refused."""
    assert not lapor.can_write_status
    with pytest.raises(RecordInvalid) as caught:
        lapor.status_to_native(Status.CLOSED)
    assert caught.value.field == "status"
    assert "[status_write]" in caught.value.reason


def test_sidumas_writes_and_reads_the_bridge_reference(sidumas: Mapping) -> None:
    """A complaint's ref goes out as ref_eksternal and comes back from it."""
    c = Complaint(source_id="1", title="T", content="C", category="lainnya", ref="lb00ff")
    payload = sidumas.to_native(c)
    assert payload["ref_eksternal"] == "lb00ff"
    assert sidumas.to_canonical({**payload, "id": 9}).ref == "lb00ff"


def test_sidumas_followup_payload_has_text_author_and_official_type(sidumas: Mapping) -> None:
    """A follow-up for SIDUMAS carries tanggapan and nama, and tipe 1 when it is official."""
    official = FollowUp(source_id="1", content="Sudah", author="Dinas PU", is_official=True)
    assert sidumas.followup_to_native(official) == {
        "tanggapan": "Sudah", "nama": "Dinas PU", "tipe": 1
    }  # fmt: skip
    note = official.model_copy(update={"is_official": False})
    assert sidumas.followup_to_native(note) == {"tanggapan": "Sudah", "nama": "Dinas PU"}


def test_lapor_followup_payload_has_content_sender_and_secrecy(lapor: Mapping) -> None:
    """A follow-up for LAPOR! (#6) carries content and is_secret; the connector adds the sender."""
    payload = lapor.followup_to_native(FollowUp(source_id="1", content="Sudah"))
    assert payload == {"content": "Sudah", "is_secret": 0}


# ---- [owns] -----------------------------------------------------------------------------------


def test_owns_is_empty_when_absent(write_mapping: Callable[..., Path]) -> None:
    """A mapping without [owns] owns no status and no field."""
    mapping = load_mapping(write_mapping(mini()))
    assert mapping.owned_statuses == frozenset()
    assert mapping.owned_fields == frozenset()


def test_owns_accepts_statuses_fields_and_followups(write_mapping: Callable[..., Path]) -> None:
    """Statuses become Status values; canonical fields, nested ones and 'followups' are kept."""
    text = mini('[owns]\nstatuses = ["closed", "new"]\nfields = ["reporter.name", "followups"]')
    mapping = load_mapping(write_mapping(text))
    assert mapping.owned_statuses == {Status.CLOSED, Status.NEW}
    assert mapping.owned_fields == {"reporter.name", "followups"}


def test_owns_reports_every_mistake_at_once(write_mapping: Callable[..., Path]) -> None:
    """Unknown statuses and fields (with hints), 'status' as a field, unknown keys: all reported."""
    text = mini(
        '[owns]\nstatuses = ["verifed", "closed"]\n'
        'fields = ["institusi_id", "status", "followups"]\nwho = "me"'
    )
    assert_reported(
        problems_of(write_mapping, text),
        [
            "[owns] key 'who' is unknown; use one of: statuses, fields",
            "[owns] statuses 'verifed' is not a status; did you mean 'verified'?",
            "[owns] fields 'institusi_id' is not a canonical field; did you mean 'institution_id'?",
            "[owns] fields 'status' is owned per status; list them in statuses",
        ],
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[owns]\nstatuses = "closed"', "statuses must be a list of names, e.g. statuses = ["),
        (
            "[owns]\nfields = [1]",
            'fields must be a list of names, e.g. fields = ["institution_id"]',
        ),
        ('owns = "lapor"', "[owns] must be a table, not str"),
    ],
)
def test_owns_of_the_wrong_shape_is_reported(
    write_mapping: Callable[..., Path], extra: str, message: str
) -> None:
    """[owns] lists that are not lists of names, or an [owns] that is not a table, are problems."""
    text = mini(extra) if extra.startswith("[") else f"{extra}\n{mini()}"
    assert any(message in p for p in problems_of(write_mapping, text))


# ---- [status_write] ---------------------------------------------------------------------------


def test_status_write_uses_the_first_code_listed_and_the_constants(
    write_mapping: Callable[..., Path],
) -> None:
    """The first code listed wins; constants ride along, and each payload is a fresh copy."""
    text = mini('[status_write]\npath = "data.st"\n[status_write.constants]\nsumber = { a = 1 }')
    mapping = load_mapping(write_mapping(text))
    first = mapping.status_to_native(Status.CLOSED)
    assert first == {"sumber": {"a": 1}, "data": {"st": 3}}
    first["sumber"]["a"] = 2
    assert mapping.status_to_native(Status.NEW) == {"sumber": {"a": 1}, "data": {"st": 0}}


def test_status_write_type_string_writes_text_codes(write_mapping: Callable[..., Path]) -> None:
    """type = "string" writes "3" where the default (all codes integers) would write 3."""
    text = mini('[status_write]\npath = "st"\ntype = "string"')
    assert load_mapping(write_mapping(text)).status_to_native(Status.CLOSED) == {"st": "3"}


def test_status_write_defaults_to_text_for_text_codes(write_mapping: Callable[..., Path]) -> None:
    """Codes that are not all integers ('proses', 'selesai') are written as text."""
    text = (
        '[mapping]\nsystem = "php"\ntimezone = "Asia/Jakarta"\nid = "id"\n'
        '[fields]\ntitle = "t"\ncontent = "c"\nstatus = { read = "status", map = "st" }\n'
        '[values.st]\n"0" = "new"\n"proses" = "in_progress"\n"selesai" = "closed"\n'
        '[status_write]\npath = "status"\n'
    )
    mapping = load_mapping(write_mapping(text))
    assert mapping.status_to_native(Status.NEW) == {"status": "0"}
    assert mapping.status_to_native(Status.CLOSED) == {"status": "selesai"}


def test_status_write_reports_every_mistake_at_once(write_mapping: Callable[..., Path]) -> None:
    """No path, a bad type, an unknown key and a TOML date constant are all reported together."""
    text = mini(
        '[status_write]\ntype = "float"\nmode = 1\n[status_write.constants]\nat = 2024-01-01'
    )
    assert_reported(
        problems_of(write_mapping, text),
        [
            "[status_write] key 'mode' is unknown; use one of: path, type, constants",
            '[status_write] path is missing; name the native status key, e.g. path = "status"',
            "[status_write.constants] at is a TOML date/time; write it as a string",
            "[status_write] type 'float' is unknown; use one of: int, string",
        ],
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[status_write]\npath = "a.0"', "path 'a.0' indexes a list"),
        ('[status_write]\npath = "st"\n[status_write.constants]\n"st" = 1', "also the status path"),
        ('[status_write]\npath = ""', "path must be a non-empty native path string"),
    ],
)
def test_status_write_path_mistakes_are_reported(
    write_mapping: Callable[..., Path], extra: str, message: str
) -> None:
    """An empty status path, one indexing a list or one a constant also writes: each reported."""
    assert any(message in p for p in problems_of(write_mapping, mini(extra)))


def test_status_write_needs_integer_codes_for_type_int(write_mapping: Callable[..., Path]) -> None:
    """type = "int" over a map with a non-integer code says to use type = "string"."""
    text = mini('[status_write]\npath = "st"\ntype = "int"').replace(
        '"9" = "closed"', '"x" = "closed"'
    )
    assert_reported(
        problems_of(write_mapping, text),
        ['[status_write] type "int" needs integer status codes; use type = "string"'],
    )


def test_status_write_needs_a_status_map(write_mapping: Callable[..., Path]) -> None:
    """Without a status field read through map = ..., there are no codes to write."""
    text = (
        '[mapping]\nsystem = "m"\ntimezone = "Asia/Jakarta"\nid = "id"\n'
        '[fields]\ntitle = "t"\ncontent = "c"\n[status_write]\npath = "status"\n'
    )
    assert_reported(
        problems_of(write_mapping, text),
        ["[status_write] needs a status field with map = ... in [fields]"],
    )


# ---- [transport] ------------------------------------------------------------------------------

TRANSPORT = """
[transport]
table = "pengaduan"
anything = [1, "two", { three = 3 }]
[transport.tables.tanggapan]
key = "id_tanggapan"
parent = "id_pengaduan"
joins = [{ table = "masyarakat", on = ["nik", "nik"] }]
"""


def test_transport_survives_nested_and_unchecked(write_mapping: Callable[..., Path]) -> None:
    """A nested [transport] table is kept as written (arrays as tuples), its content unchecked."""
    mapping = load_mapping(write_mapping(mini(TRANSPORT)))
    tanggapan: Any = mapping.transport["tables"]["tanggapan"]
    assert mapping.transport["table"] == "pengaduan"
    assert mapping.transport["anything"] == (1, "two", {"three": 3})
    assert tanggapan["parent"] == "id_pengaduan"
    assert tanggapan["joins"][0]["on"] == ("nik", "nik")


def test_transport_is_read_only(write_mapping: Callable[..., Path]) -> None:
    """Neither the transport table nor a nested one can be changed through the mapping."""
    mapping = load_mapping(write_mapping(mini(TRANSPORT)))
    with pytest.raises(TypeError):
        mapping.transport["table"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        mapping.transport["tables"]["tanggapan"]["key"] = "x"


def test_transport_is_empty_when_absent(sidumas: Mapping) -> None:
    """A mapping without [transport] has an empty one."""
    assert dict(sidumas.transport) == {}


def test_transport_must_be_a_table(write_mapping: Callable[..., Path]) -> None:
    """transport = "sql" (not a table) is a problem; its content never is."""
    text = 'transport = "sql"\n' + mini()
    assert_reported(problems_of(write_mapping, text), ["[transport] must be a table, not str"])


# ---- natural_key ------------------------------------------------------------------------------


def test_natural_key_is_kept_in_order(write_mapping: Callable[..., Path]) -> None:
    """natural_key lists canonical fields the mapping reads, in the order given."""
    mapping = load_mapping(write_mapping(mini(head='natural_key = ["content", "title"]')))
    assert mapping.natural_key == ("content", "title")


def test_natural_key_is_empty_when_absent(write_mapping: Callable[..., Path]) -> None:
    """Without natural_key, the key is () and no complaint has one."""
    mapping = load_mapping(write_mapping(mini()))
    assert mapping.natural_key == ()
    assert mapping.natural_key_of(Complaint(source_id="1", title="T", content="C")) is None


def test_natural_key_reports_every_mistake_at_once(write_mapping: Callable[..., Path]) -> None:
    """Unknown names (with a hint), list fields and fields the mapping never reads: all reported."""
    head = 'natural_key = ["titel", "tags", "incident_date", "title"]'
    assert_reported(
        problems_of(write_mapping, mini(head=head)),
        [
            "[mapping] natural_key 'titel' is not a canonical field a key can compare; "
            "did you mean 'title'?",
            "[mapping] natural_key 'tags' is not a canonical field a key can compare",
            "[mapping] natural_key 'incident_date' is not read by this mapping; add it to [fields]",
        ],
    )


def test_natural_key_must_be_a_list_of_names(write_mapping: Callable[..., Path]) -> None:
    """natural_key = "title" (not a list) is a problem that shows the list form."""
    problems = problems_of(write_mapping, mini(head='natural_key = "title"'))
    assert_reported(problems, ['natural_key must be a list of names, e.g. natural_key = ["title"'])


def test_mapping_error_lists_problems_of_all_new_sections(
    write_mapping: Callable[..., Path],
) -> None:
    """One MappingError holds the problems of [owns], [status_write] and natural_key together."""
    text = mini(
        '[owns]\nstatuses = ["done"]\n[status_write]\ntype = "int"', head='natural_key = ["x"]'
    )
    with pytest.raises(MappingError) as caught:
        load_mapping(write_mapping(text))
    joined = "\n".join(caught.value.problems)
    for where in ("[owns] statuses", "[status_write] path is missing", "[mapping] natural_key"):
        assert where in joined
