"""Real complaint texts for seeding the simulators.

The shared corpus (1,867 public LAPOR! complaints from 2017) lives outside the repository and
must not be copied into it, so it is looked up at run time; a small invented sample ships with the
package so the simulators still work on a fresh checkout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CORPUS_FILE = "lapor-2017-complaints.jsonl"
SAMPLE_PATH = Path(__file__).with_name("sample_complaints.jsonl")
_REPO_ROOT = Path(__file__).resolve().parents[3]  # bridge/testing/simulators/ → the repo


@dataclass(frozen=True)
class CorpusEntry:
    tracking_id: str
    title: str
    body: str


def corpus_candidates() -> list[Path]:
    """The places the shared corpus may be, best first; the shipped sample is not among them."""
    candidates = []
    shared = os.environ.get("BRIDGE_SHARED_DATA")
    if shared:
        candidates.append(Path(shared) / CORPUS_FILE)
    candidates.append(_REPO_ROOT.parent / "shared" / "data" / CORPUS_FILE)
    return candidates


def resolve_corpus_path(candidates: Sequence[Path] | None = None) -> Path:
    """Return the first existing candidate, else the sample shipped with the package."""
    for candidate in corpus_candidates() if candidates is None else candidates:
        if candidate.is_file():
            return candidate
    return SAMPLE_PATH


def corpus_source() -> str:
    """Say which file `load_corpus()` reads, for logs and the CLI."""
    return str(resolve_corpus_path())


def load_corpus(limit: int | None = None, *, path: Path | None = None) -> list[CorpusEntry]:
    """Read the corpus in file order, one entry per tracking id.

    The shared file repeats 30 tracking ids with identical text (crawl duplicates), so the first
    occurrence wins. Titles are deliberately not deduplicated: many different complaints share one.
    """
    source = path if path is not None else resolve_corpus_path()
    entries: list[CorpusEntry] = []
    seen: set[str] = set()
    with source.open(encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(entries) >= limit:
                break
            if not line.strip():
                continue
            row = json.loads(line)
            tracking_id = str(row["tracking_id"])
            if tracking_id in seen:
                continue
            seen.add(tracking_id)
            entries.append(CorpusEntry(tracking_id, str(row["title"]), str(row["body"])))
    return entries
