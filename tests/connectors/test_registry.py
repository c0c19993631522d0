"""The built-in connectors are found through the entry point registry, like third-party ones."""

from __future__ import annotations

from bridge.connector import connector_class
from bridge.connectors.lapor import LaporConnector
from bridge.connectors.memory import MemoryConnector
from bridge.connectors.rest import RestConnector


def test_built_in_types_are_registered_under_their_names() -> None:
    """memory, lapor and rest resolve to their classes, whose `type` matches the name."""
    for cls in (MemoryConnector, LaporConnector, RestConnector):
        assert connector_class(cls.type) is cls
