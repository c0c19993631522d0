"""The connector base: settings declared once and validated once; errors name their system."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import pytest

from bridge.connector import Connector, ConnectorSettings, NativeRecord
from bridge.errors import ConfigError, RecordError, RecordInvalid, RetryableError, system_of
from bridge.health import failing_connector
from bridge.model import Attachment


class TinySettings(ConnectorSettings):
    pages: int = 1
    ceiling: int = 10


class Tiny(Connector[TinySettings]):
    """A third-party connector as its author would write it: no error bookkeeping at all."""

    type = "tiny"

    def problems(self) -> list[str]:
        if self.options.pages > self.options.ceiling:
            return [f"connectors.{self.name}.pages must not exceed ceiling"]
        return []

    def pull(self, since: datetime | None = None) -> Iterator[list[NativeRecord]]:
        for number in range(self.options.pages):
            yield [{"id": str(number)}]
        raise RetryableError("tiny: the listing broke off")

    def get(self, record_id: str) -> NativeRecord | None:
        raise RecordInvalid(f"no record {record_id}")


def test_the_settings_model_is_the_class_type_argument() -> None:
    """`Connector[TinySettings]` is the one declaration: the registry and config read it."""
    assert Tiny.Settings is TinySettings


def test_settings_are_validated_once_against_the_declared_model() -> None:
    """Base settings (a test's, a tool's) are checked against the type's own model."""
    tiny = Tiny("tiny", ConnectorSettings(type="tiny"))
    assert isinstance(tiny.options, TinySettings)
    assert tiny.options.pages == 1


def test_keys_that_only_work_together_fail_at_construction() -> None:
    """`problems` is asked once, at construction, and every problem is a ConfigError."""
    with pytest.raises(ConfigError, match="pages must not exceed ceiling"):
        Tiny("tiny", TinySettings(type="tiny", pages=11))


def test_an_error_from_a_contract_method_names_the_configured_connector() -> None:
    """The base marks the error; the connector's own code never has to."""
    tiny = Tiny("door-a", TinySettings(type="tiny"))
    with pytest.raises(RecordInvalid) as caught:
        tiny.get("7")
    assert caught.value.system == "door-a"


def test_an_error_while_pulling_pages_names_the_connector() -> None:
    """pull hands out pages lazily: an error raised mid-iteration is marked too."""
    tiny = Tiny("door-b", TinySettings(type="tiny", pages=2))
    pages = tiny.pull()
    assert next(pages) == [{"id": "0"}]
    with pytest.raises(RetryableError) as caught:
        list(pages)
    assert system_of(caught.value) == "door-b"


def test_the_innermost_connector_keeps_the_blame() -> None:
    """A target whose create fails in the source's download: the source is to blame."""
    source = Tiny("source", TinySettings(type="tiny"))

    class Target(Tiny):
        def create(self, record: NativeRecord, attachments: Sequence[Attachment], ref: str) -> str:
            source.download(Attachment(filename="a.pdf", content_type="application/pdf"))
            return "1"

    target = Target("target", TinySettings(type="tiny"))
    with pytest.raises(RecordError) as caught:
        target.create({}, [], "ref")
    assert caught.value.system == "source"
    assert failing_connector(caught.value, (source, target)) is source


def test_a_connector_bug_is_blamed_on_it_as_well() -> None:
    """Not only BridgeErrors: a connector that keeps crashing is paused like a failing one."""

    class Buggy(Tiny):
        def find_by_ref(self, ref: str) -> str | None:
            raise KeyError(ref)

    buggy = Buggy("buggy", TinySettings(type="tiny"))
    with pytest.raises(KeyError) as caught:
        buggy.find_by_ref("lb-1")
    assert failing_connector(caught.value, (buggy,)) is buggy
