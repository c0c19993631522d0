"""Precision and recall of the duplicate check on the labelled 2017 LAPOR! set.

    .venv/bin/python bench/dedup_eval.py                       # held-out pairs, default rules
    .venv/bin/python bench/dedup_eval.py --split dev --sweep   # the tuning view
    .venv/bin/python bench/dedup_eval.py --boilerplate         # the most frequent phrases

Every original is indexed in a real SQLite ledger as if it came from one door and was
sent to LAPOR!; every probe (``bench/dedup_set.py`` says how they are made) then takes
the engine's own path: ``probe_of`` → ``ledger.duplicates.candidates`` → ``evidence``
→ ``decide``. Reported:

- auto-link precision: links to the right original / all links made;
- auto-link recall: positives linked to their original / positives;
- candidate recall: positives whose original is linked or queued for review / positives;
- review load: hard negatives sent to a person / hard negatives.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dedup_set import Item, build_set

from bridge.dedup import DedupRules, Verdict, decide, evidence, probe_of
from bridge.dedup.normalise import normalise
from bridge.ledger import CreateIntent, Ledger
from bridge.model import Complaint, Reporter

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SECRET = b"bench"


def complaint(item: Item) -> Complaint:
    return Complaint(
        source_id=item.id, title=item.title[:200], content=item.body, created_at=item.at,
        reporter=Reporter(phone=item.phone),
    )  # fmt: skip


def index(ledger: Ledger, originals: list[Item]) -> None:
    intents = [CreateIntent(f"o-{o.id}", "door-a", o.id, "h", "lapor") for o in originals]
    ledger.creates.record_intents("bench", intents)
    ledger.duplicates.index({f"o-{o.id}": probe_of(complaint(o), SECRET, o.at) for o in originals})


def verdicts(ledger: Ledger, probes: list[Item], rules: DedupRules) -> list[tuple[Item, list]]:
    """Each probe with its candidates' evidence (decided later, for any rules)."""
    out = []
    for item in probes:
        probe = probe_of(complaint(item), SECRET, item.at)
        cap = rules.max_candidates
        found = ledger.duplicates.candidates(probe, system="door-b", cap=cap)
        out.append((item, [evidence(probe, other) for other in found]))
    return out


def score(results: list[tuple[Item, list]], rules: DedupRules) -> dict[str, float]:
    tally: Counter[str] = Counter()
    for item, found in results:
        verdict: Verdict = decide(found, rules)
        right = f"o-{item.label}" if item.label else None
        queued = {e.ref for e in verdict.review}
        tally["positives" if right else "negatives"] += 1
        if verdict.link is not None:
            tally["links"] += 1
            tally["right links"] += verdict.link.ref == right
        if right and verdict.link is not None and verdict.link.ref == right:
            tally["auto found"] += 1
        if right and (right in queued or (verdict.link and verdict.link.ref == right)):
            tally["candidates found"] += 1
        if right and right in {e.ref for e in found}:
            tally["blocked"] += 1
        if not right and queued:
            tally["negatives reviewed"] += 1
    return {
        "auto-link precision": tally["right links"] / max(1, tally["links"]),
        "auto-link recall": tally["auto found"] / max(1, tally["positives"]),
        "candidate recall": tally["candidates found"] / max(1, tally["positives"]),
        "blocking recall (keys shared)": tally["blocked"] / max(1, tally["positives"]),
        "review load on hard negatives": tally["negatives reviewed"] / max(1, tally["negatives"]),
        "links": tally["links"],
        "positives": tally["positives"],
        "negatives": tally["negatives"],
    }


def boilerplate(path: Path, top: int = 30) -> None:
    """Word 3-grams by document frequency: the phrases shared by unrelated complaints."""
    from dedup_set import load_originals

    df: Counter[str] = Counter()
    for item in load_originals(path):
        words = normalise(item.body).split()
        df.update({" ".join(words[i : i + 3]) for i in range(len(words) - 2)})
    for phrase, count in df.most_common(top):
        print(f"{count:5d}  {phrase}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA / "lapor-2017-complaints.jsonl")
    parser.add_argument("--split", choices=("dev", "held-out"), default="held-out")
    parser.add_argument("--sweep", action="store_true", help="auto/review scores side by side")
    parser.add_argument("--boilerplate", action="store_true")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"{args.data} not found: the labelled set is built from the shared 2017 sample")
    if args.boilerplate:
        boilerplate(args.data)
        return
    originals, probes = build_set(args.data, args.split)
    rules = DedupRules()
    with tempfile.TemporaryDirectory() as tmp, Ledger.open(f"sqlite:///{tmp}/l.db") as ledger:
        index(ledger, originals)
        results = verdicts(ledger, probes, rules)
    kinds = Counter(p.kind.split("+")[0] if p.label else p.kind for p in probes)
    print(f"{len(originals)} originals indexed; {args.split} probes: {dict(kinds)}")
    for name, value in score(results, rules).items():
        print(f"  {name}: {value:.4f}" if isinstance(value, float) else f"  {name}: {value}")
    if args.sweep:
        print("auto_score review_score | precision auto-recall cand-recall review-load")
        for auto in (75, 80, 85, 90, 95):
            for review in (50, 60, 70):
                s = score(results, replace(rules, auto_score=auto, review_score=review))
                print(f"{auto:10} {review:12} | {s['auto-link precision']:.4f} "
                      f"{s['auto-link recall']:.4f} {s['candidate recall']:.4f} "
                      f"{s['review load on hard negatives']:.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
