"""What the CLI prints for the engine's own words: one vocabulary for people."""

from __future__ import annotations

from bridge.cli.render import action_word, counts


def test_the_engine_s_set_aside_is_printed_as_quarantine() -> None:
    """A cycle's counts and actions say "quarantine", the word the commands and docs use."""
    assert action_word("set_aside") == "quarantine"
    assert action_word("create") == "create"
    assert counts({"set_aside": 2, "skip": 5, "create": 1}) == "create 1, quarantine 2, skip 5"


def test_no_counts_print_as_nothing() -> None:
    """An empty count is an empty line; each command says "nothing" in its own words."""
    assert counts({}) == ""
