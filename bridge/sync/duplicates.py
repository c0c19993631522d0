"""The duplicate check as a cycle sees it: read in observe (here), carried out in act.

- ``look_for_duplicates`` (observe): for each new record bound for the target, its
  probe (``bridge.dedup``), its candidates from ``ledger.duplicates`` and the decisions
  a person took on them, and the verdict (``bridge.dedup.decide``): linked, held, or new;
- ``index_sends`` (act): every complaint whose create intent is recorded joins the
  index, so a later copy through another door finds it;
- ``bridge.sync.duplicate_acts`` (act) links the record to the existing complaint, or
  sets it aside for ``bridge review``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bridge.dedup import Probe, Verdict, decide, evidence, probe_of
from bridge.ledger.duplicates import LINKED, NOT_DUPLICATE, SPLIT
from bridge.sync.plan import Create, ToTarget
from bridge.sync.route import Route

# Pairs a person (or a split) ruled out are never proposed again.
_RULED_OUT = frozenset({NOT_DUPLICATE, SPLIT})


def look_for_duplicates(
    route: Route, bound: Sequence[ToTarget], checked: Mapping[str, bool]
) -> tuple[dict[str, Verdict], dict[str, Probe]]:
    """Verdicts and probes for the new records of ``bound`` (``checked``: source id → check it)."""
    rules = route.duplicates
    if rules is None:
        return {}, {}
    now = route.clock()
    probes = {
        s.observation.source_id: probe_of(s.observation.complaint, route.reporter_secret, now)
        for s in bound
        if s.observation.complaint is not None
    }
    asked = [s for s in bound if checked.get(s.observation.source_id, False)]
    decided = route.ledger.duplicates.decisions([s.ref for s in asked])
    verdicts = {}
    for step in asked:
        probe = probes[step.observation.source_id]
        ruled = decided.get(step.ref, {})
        found = route.ledger.duplicates.candidates(
            probe, system=route.source.name, cap=rules.max_candidates
        )
        candidates = [
            evidence(probe, other, confirmed=ruled.get(other.ref) == LINKED)
            for other in found
            if other.ref != step.ref and ruled.get(other.ref) not in _RULED_OUT
        ]
        verdicts[step.observation.source_id] = decide(candidates, rules)
    return verdicts, probes


def index_sends(route: Route, creates: Sequence[Create]) -> None:
    """Index the complaints about to be created (their intent is recorded)."""
    entries = {c.ref: c.probe for c in creates if c.probe is not None}
    if entries:
        route.ledger.duplicates.index(entries)
