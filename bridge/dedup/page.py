"""Duplicates within one page: two new records of a page compared with each other.

Neither is in the index yet when the page is planned, so the index cannot tell that
the second copies the first. ``page_twin`` compares a new record's probe with those of
the page's earlier creates, with the same evidence and the same two decisions as the
index (``bridge.dedup.decide``). Pure: the plan (``bridge.sync.plan``) calls it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bridge.dedup.decide import DedupRules, Verdict, decide
from bridge.dedup.probe import Indexed, Probe, evidence
from bridge.dedup.reporter import REPORTER_KINDS


def page_twin(probe: Probe, earlier: Sequence[tuple[str, Probe]], rules: DedupRules) -> Verdict:
    """The verdict on ``probe`` against the page's earlier creates (their ref → probe)."""
    candidates = [evidence(probe, _as_indexed(ref, other, probe)) for ref, other in earlier]
    return decide(candidates, rules)


def _as_indexed(ref: str, other: Probe, probe: Probe) -> Indexed:
    # The reporter kinds both carry with the same keyed hash, as the index's query reports them.
    shared = set(probe.reporters) & set(other.reporters)
    return Indexed(
        ref,
        other.text,
        other.text_hash,
        other.at,
        other.region,
        other.category,
        shared=len(set(probe.keys) & set(other.keys)),
        reporters=tuple(k for k in REPORTER_KINDS if any(s.startswith(f"r:{k}:") for s in shared)),
    )
