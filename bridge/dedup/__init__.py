"""Cross-door duplicate detection: the same complaint through two doors is one LAPOR! complaint.

``normalise`` (Indonesian slang, elongation, boilerplate) → ``Probe`` (exact text hash,
MinHash band keys, hashed reporter keys) → candidates from the ledger's indexed table
(``ledger.duplicates``) → ``evidence`` (rapidfuzz) → ``decide``: auto-link on
deterministic evidence only, the grey band to a person (``bridge review``). Pure but
for the ledger read, which the sync engine does in observe (``bridge.sync.duplicates``).
"""

from __future__ import annotations

from bridge.dedup.decide import DedupRules, Evidence, Verdict, decide
from bridge.dedup.normalise import normalise, text_hash
from bridge.dedup.probe import Indexed, Probe, evidence, probe_of

__all__ = [
    "DedupRules",
    "Evidence",
    "Indexed",
    "Probe",
    "Verdict",
    "decide",
    "evidence",
    "normalise",
    "probe_of",
    "text_hash",
]
