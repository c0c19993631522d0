"""LAPOR! answer shapes read by the connector's pure helpers (upload ids, nested institutions)."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.connectors.lapor_wire import flat_institutions, uploaded_ids
from bridge.errors import ProtocolError


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({"docs": [{"id": 1}]}, [1]),
        ({"images": [{"id": 7}]}, [7]),
        ({"docs": [{"id": 1}], "images": [{"id": 7}, {"id": 8}]}, [1, 7, 8]),
        ({"docs": [], "images": [{"id": 7}]}, [7]),
    ],
)
def test_upload_ids_come_from_docs_and_images(results: dict[str, Any], expected: list[int]) -> None:
    """Photos filed under results.images count as well as documents under results.docs."""
    assert uploaded_ids(results, "upload") == expected


@pytest.mark.parametrize("results", [{}, {"docs": "1"}, {"images": [{"name": "x"}]}])
def test_an_upload_answer_without_ids_is_a_protocol_error(results: dict[str, Any]) -> None:
    """No list of {id} under docs or images: the upload cannot be trusted, ProtocolError."""
    with pytest.raises(ProtocolError, match="docs/images"):
        uploaded_ids(results, "upload")


def test_nested_institutions_are_read_as_ids_and_names() -> None:
    """institution_from_id as {"id", "name"} reads as the id, the name fills the name field."""
    flat = flat_institutions({"institution_from_id": {"id": 1003, "name": "Dinas PU"}})
    assert flat == {"institution_from_id": 1003, "institution_from_name": "Dinas PU"}
    assert flat_institutions({"institution_to_id": 5}) == {"institution_to_id": 5}
