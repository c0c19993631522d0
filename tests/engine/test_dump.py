"""The canonical JSON of a record (the memo's digest, the quarantine's copy) is built by
one encoder made once, and is what ``json.dumps`` with the same options writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sync.observe import dump
from tests.engine.conftest import door_record

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.dates(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), _VALUES, max_size=6))
@settings(max_examples=300, deadline=None)
def test_dump_writes_what_json_dumps_writes(record: dict[str, Any]) -> None:
    """Keys sorted, ASCII escapes (lone surrogates too), other values by str: byte for byte."""
    assert dump(record) == json.dumps(record, sort_keys=True, ensure_ascii=True, default=str)


def test_dump_builds_no_encoder_per_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building a JSONEncoder for each record was a quarter of the memo's digest."""

    def refused(*_: object, **__: object) -> None:
        raise AssertionError("an encoder built for one record")

    monkeypatch.setattr(json.JSONEncoder, "__init__", refused)
    assert dump(door_record(1)).startswith('{"alamat": "Jl. Raya Kuta"')
