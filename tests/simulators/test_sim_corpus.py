"""The corpus loader: where it reads from, and how it treats duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.testing.simulators import corpus
from bridge.testing.simulators.corpus import (
    SAMPLE_PATH,
    CorpusEntry,
    load_corpus,
    resolve_corpus_path,
)


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_dedupes_by_tracking_id_but_not_by_title(tmp_path: Path) -> None:
    """A repeated tracking id is kept once; different ids sharing a title are all kept."""
    rows = [
        {"tracking_id": "1000001", "title": "keluhan status eklaim", "body": "satu"},
        {"tracking_id": "1000001", "title": "keluhan status eklaim", "body": "satu"},
        {"tracking_id": "1000002", "title": "keluhan status eklaim", "body": "dua"},
    ]
    entries = load_corpus(path=write_jsonl(tmp_path / "c.jsonl", rows))
    assert entries == [
        CorpusEntry("1000001", "keluhan status eklaim", "satu"),
        CorpusEntry("1000002", "keluhan status eklaim", "dua"),
    ]


def test_limit_counts_distinct_entries(tmp_path: Path) -> None:
    """`limit` returns that many distinct complaints, skipping duplicates on the way."""
    rows = [{"tracking_id": str(i // 2), "title": "t", "body": "b"} for i in range(10)]
    entries = load_corpus(3, path=write_jsonl(tmp_path / "c.jsonl", rows))
    assert [e.tracking_id for e in entries] == ["0", "1", "2"]


def test_falls_back_to_the_shipped_sample_when_no_candidate_exists(tmp_path: Path) -> None:
    """With no shared corpus anywhere, the invented sample shipped with the package is used."""
    assert resolve_corpus_path([tmp_path / "missing.jsonl"]) == SAMPLE_PATH


def test_env_var_at_an_empty_directory_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BRIDGE_SHARED_DATA pointing at a directory without the file does not count as a source."""
    monkeypatch.setenv("BRIDGE_SHARED_DATA", str(tmp_path))
    first = corpus.corpus_candidates()[0]
    assert first == tmp_path / corpus.CORPUS_FILE
    assert resolve_corpus_path([first]) == SAMPLE_PATH


def test_env_var_wins_when_the_file_is_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corpus under BRIDGE_SHARED_DATA is preferred, and corpus_source() names it."""
    rows = [{"tracking_id": "42", "title": "t", "body": "b"}]
    shared = write_jsonl(tmp_path / corpus.CORPUS_FILE, rows)
    monkeypatch.setenv("BRIDGE_SHARED_DATA", str(tmp_path))
    assert corpus.corpus_source() == str(shared)
    assert load_corpus() == [CorpusEntry("42", "t", "b")]


def test_shipped_sample_holds_distinct_non_empty_complaints() -> None:
    """The sample has about twenty complaints, each with an id, a title and a body."""
    entries = load_corpus(path=SAMPLE_PATH)
    assert len(entries) >= 20
    assert all(e.tracking_id.isdigit() and e.title and e.body for e in entries)


def test_shared_corpus_has_its_known_duplicates_removed() -> None:
    """The shared file's 1,867 lines hold 1,837 distinct tracking ids."""
    candidates = [c for c in corpus.corpus_candidates() if c.is_file()]
    if not candidates:
        pytest.skip("shared corpus not available on this machine")
    assert len(load_corpus(path=candidates[0])) == 1837
