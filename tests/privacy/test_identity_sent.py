"""identity_sent maps only the keys the identity is written under, and names what the
full re-mapping of an anonymous copy would name."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import RecordError
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.model import Complaint
from bridge.sync.anonymity import IDENTITY_FIELDS, anonymous
from bridge.sync.anonymity_gate import identity_sent
from bridge.sync.outgoing import Outgoing, outgoing
from bridge.sync.route import Route
from tests.conftest import MAPPINGS
from tests.engine.conftest import make_route
from tests.privacy.test_anonim import _complaint

LAPOR_IDENTITY_KEYS = (
    "title",
    "content",
    "nameUser",
    "phoneUser",
    "emailUser",
    "location_detail",
    "latitude",
    "longitude",
)


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def _by_full_remapping(
    route: Route, leaving: Complaint, payload: dict[str, Any]
) -> tuple[str, ...]:
    """The definition: every key a whole anonymous copy writes differently, flag aside."""
    origin = route.source.name
    bare = anonymous(
        leaving,
        scrub_text=route.scrub_anonymous_text,
        keep_location=route.send_anonymous_location,
    )
    try:
        hidden = route.target_mapping.to_native(bare, origin=origin)
        flagged = leaving.model_copy(update={"is_anonymous": True})
        flag = route.target_mapping.to_native(flagged, origin=origin)
    except RecordError:
        return tuple(sorted(k for k, v in payload.items() if v not in (None, "")))
    return tuple(
        sorted(
            k
            for k, v in payload.items()
            if v not in (None, "") and hidden.get(k) != v and flag.get(k) == v
        )
    )


def test_lapor_writes_the_identity_under_these_keys(ledger: Ledger) -> None:
    """The LAPOR! mapping's keys that identity_sent maps again, worked out once."""
    mapping = make_route(ledger).target_mapping
    assert mapping.written_from(IDENTITY_FIELDS) == LAPOR_IDENTITY_KEYS


def test_anonymous_changes_nothing_outside_the_identity_fields() -> None:
    """Every canonical field an anonymous copy changes is listed in IDENTITY_FIELDS."""
    public = _complaint(is_anonymous=False)
    before = _flat(public.model_dump())
    for scrub, keep in ((True, False), (False, True), (True, True), (False, False)):
        after = _flat(anonymous(public, scrub_text=scrub, keep_location=keep).model_dump())
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        assert changed, (scrub, keep)
        for name in changed:
            assert any(name == f or name.startswith(f"{f}.") for f in IDENTITY_FIELDS), name


@pytest.mark.parametrize(
    ("scrub", "keep", "changes"),
    [
        (True, False, {}),
        (False, False, {}),
        (True, True, {"title": "Jalan rusak"}),
        (False, True, {"reporter": _complaint().reporter.model_copy(update={"phone": None})}),
        (True, False, {"location": _complaint().location.model_copy(update={"lat": None})}),
    ],
)
def test_identity_sent_names_what_the_full_remapping_names(
    ledger: Ledger, scrub: bool, keep: bool, changes: dict[str, object]
) -> None:
    """Public complaints under each privacy setting: the same field names as before H13c."""
    route = dataclasses.replace(
        make_route(ledger), scrub_anonymous_text=scrub, send_anonymous_location=keep
    )
    result = outgoing(route, _complaint(is_anonymous=False, **changes), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    expected = _by_full_remapping(route, result.complaint, result.payload)
    assert expected  # a public copy with a reporter always carries something
    assert identity_sent(route, result.complaint, result.payload) == expected


def test_the_flagged_copy_is_not_mapped_when_the_flag_is_written_apart(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LAPOR! writes is_anonymous under a key of its own: one part mapped (the anonymous copy)."""
    route = make_route(ledger)
    result = outgoing(route, _complaint(is_anonymous=False), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    mapping = route.target_mapping
    mapped: list[Complaint] = []
    part = mapping.to_native_part

    def counted(complaint: Complaint, *args: Any, **kwargs: Any) -> dict[str, Any]:
        mapped.append(complaint)
        return part(complaint, *args, **kwargs)

    monkeypatch.setattr(mapping, "to_native_part", counted)
    assert identity_sent(route, result.complaint, result.payload)
    assert [c.is_anonymous for c in mapped] == [False]


def test_a_key_the_flag_shares_with_the_reporter_is_still_compared_with_the_flagged_copy(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The flag written beside the reporter's name (one object): that key, changed by the
    flag too, is named as by the full re-mapping (not at all)."""
    text = (MAPPINGS / "lapor.toml").read_text()
    text = text.replace(
        'is_anonymous = { path = "is_anonymous", write_as = "bool" }',
        'is_anonymous = { path = "pelapor.anonim", write_as = "bool" }',
    ).replace(
        '"reporter.name" = { read = false, write = "nameUser" }',
        '"reporter.name" = { read = false, write = "pelapor.nama" }',
    )
    assert "pelapor.anonim" in text and "pelapor.nama" in text
    (tmp_path / "lapor.toml").write_text(text)
    route = dataclasses.replace(
        make_route(ledger), target_mapping=load_mapping(tmp_path / "lapor.toml")
    )
    result = outgoing(route, _complaint(is_anonymous=False), "lb0000000000000001")
    assert isinstance(result, Outgoing)
    assert result.payload["pelapor"] == {"anonim": False, "nama": "Made Wirawan"}
    expected = _by_full_remapping(route, result.complaint, result.payload)
    assert "pelapor" not in expected and "phoneUser" in expected
    assert identity_sent(route, result.complaint, result.payload) == expected
