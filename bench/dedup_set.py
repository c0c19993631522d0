"""The labelled duplicate set, built from the 2017 LAPOR! sample (``../shared/data``).

    from dedup_set import build_set
    originals, probes = build_set(path, split="held-out")

How it is made (repeatable: every random choice comes from a seeded ``random.Random``):

1. **Originals**: the sample's complaints, one per tracking id and per normalised text
   (the 30 ids the crawl holds twice, and verbatim re-posts, would otherwise be unlabelled
   duplicates), each with a made-up phone number and a date in 2017.
2. **Split**: by a hash of the tracking id, a fifth of the complaints are the ``pool``
   (never indexed: the hard negatives' texts come from there, so a negative is never a
   copy of an indexed complaint), two fifths ``dev`` (the thresholds were chosen looking
   at these) and two fifths ``held-out`` (reported, never tuned on). Dev and held-out
   originals are all indexed.
3. **Positives** (``label`` = the original's id), one or two per original of the split,
   typed through "another door": a verbatim re-post; or one to three of: salutation and
   closing dropped or added, SMS abbreviations and slang (``yang``→``yg``, ``tidak``→``tdk``
   …), typos (a letter swapped, dropped or doubled in 6 % of the words), 15 % of the words
   dropped, case changed, words elongated. Half carry the original's phone (the same
   citizen), half none. 0-10 days after the original.
4. **Hard negatives** (``label`` = None), one per original: a *different* complaint (from
   the pool) that (a) has the same title (the sample has many: "keluhan status eklaim"
   22 times), or (b) starts with the original's first sentence, followed by its own text, or
   (c) comes from the same citizen (same phone); 0-10 days after the original.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bridge.dedup.lexicon import SLANG
from bridge.dedup.normalise import normalise, text_hash

START = datetime(2017, 1, 1, tzinfo=UTC)

# standard word → an abbreviation of it (the first one the lexicon lists)
ABBREVIATIONS: dict[str, str] = {}
for short, standard in SLANG.items():
    if " " not in standard and short != standard:
        ABBREVIATIONS.setdefault(standard, short)


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    body: str
    phone: str | None
    at: datetime
    label: str | None = None
    """The original this copy duplicates (None: a hard negative; an original: itself)."""
    kind: str = "original"


def split_of(tracking_id: str) -> str:
    bucket = hashlib.sha256(tracking_id.encode()).digest()[0] % 5
    return "pool" if bucket == 0 else "dev" if bucket <= 2 else "held-out"


def load_originals(path: Path) -> list[Item]:
    rng = random.Random(2017)
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    originals = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        key = text_hash(normalise(row["body"]))
        if row["tracking_id"] in seen_ids or key in seen_texts:
            continue
        seen_ids.add(row["tracking_id"])
        seen_texts.add(key)
        phone = "08" + "".join(rng.choice("0123456789") for _ in range(10))
        at = START + timedelta(seconds=rng.randint(0, 330 * 86400))
        originals.append(Item(row["tracking_id"], row["title"], row["body"], phone, at, None))
    return originals


def build_set(path: Path, split: str) -> tuple[list[Item], list[Item]]:
    """The indexed originals, and the probes of ``split``: positives and hard negatives."""
    everything = load_originals(path)
    pool = [o for o in everything if split_of(o.id) == "pool"]
    originals = [o for o in everything if split_of(o.id) != "pool"]
    rng = random.Random(f"probes-{split}")
    by_title: dict[str, list[Item]] = defaultdict(list)
    for item in pool:
        by_title[item.title.strip().lower()].append(item)
    probes: list[Item] = []
    for original in (o for o in originals if split_of(o.id) == split):
        for n in range(rng.choice((1, 2))):
            probes.append(_positive(original, rng, n))
        probes.append(_negative(original, pool, by_title, rng))
    return originals, probes


def _later(item: Item, rng: random.Random) -> datetime:
    return item.at + timedelta(seconds=rng.randint(0, 10 * 86400))


def _positive(original: Item, rng: random.Random, n: int) -> Item:
    changes = ["verbatim"] if rng.random() < 0.2 else rng.sample(sorted(PERTURB), rng.randint(1, 3))
    body = original.body
    for change in changes:
        if change != "verbatim":
            body = PERTURB[change](body, rng)
    phone = original.phone if rng.random() < 0.5 else None
    kind = "+".join(changes)
    return Item(f"{original.id}-copy{n}", original.title, body, phone, _later(original, rng),
                original.id, kind)  # fmt: skip


def _negative(
    original: Item, pool: list[Item], by_title: dict[str, list[Item]], rng: random.Random
) -> Item:
    other = rng.choice(pool)
    same_title = by_title[original.title.strip().lower()]
    at = _later(original, rng)
    choice = rng.random()
    if same_title and choice < 0.4:  # a different complaint under the same title
        twin = rng.choice(same_title)
        return Item(f"{original.id}-neg", original.title, twin.body, None, at, None, "same-title")
    if choice < 0.7:  # the original's first sentence, then another complaint's text
        first = re.split(r"(?<=[.!?])\s", _plain(original.body), maxsplit=1)[0]
        body = f"{first} {other.body}"
        return Item(f"{original.id}-neg", other.title, body, None, at, None, "shared-sentence")
    # the same citizen, another complaint
    return Item(f"{original.id}-neg", other.title, other.body, original.phone, at, None,
                "same-reporter")  # fmt: skip


def _plain(body: str) -> str:
    return re.sub(r"<[^>]*>", " ", body)


def _words(body: str, change: object) -> str:
    return " ".join(w for w in (change(w) for w in _plain(body).split()) if w)  # type: ignore[operator]


def _salutation(body: str, rng: random.Random) -> str:
    plain = _plain(body)
    plain = re.sub(r"^\s*(kpd\.?\s*)?yth\.?[^,]{0,120},", "", plain, flags=re.I)
    plain = re.sub(r"mohon ditindaklanjuti,?\s*terima kasih\s*$", "", plain.strip(), flags=re.I)
    return f"Selamat pagi bapak/ibu, {plain} Terima kasih." if rng.random() < 0.5 else plain


def _abbreviate(body: str, rng: random.Random) -> str:
    return _words(body, lambda w: ABBREVIATIONS.get(w.lower(), w) if rng.random() < 0.7 else w)


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or rng.random() > 0.06:
        return word
    i = rng.randrange(1, len(word) - 1)
    return rng.choice(
        (word[:i] + word[i + 1] + word[i] + word[i + 2 :], word[:i] + word[i + 1 :],
         word[:i] + word[i] + word[i:])
    )  # fmt: skip


PERTURB = {
    "salutation": _salutation,
    "sms": _abbreviate,
    "typos": lambda body, rng: _words(body, lambda w: _typo(w, rng)),
    "dropped-words": lambda body, rng: _words(body, lambda w: w if rng.random() > 0.15 else ""),
    "case": lambda body, rng: body.upper() if rng.random() < 0.5 else body.lower(),
    "elongated": lambda body, rng: _words(
        body, lambda w: w + w[-1] * 3 if w.isalpha() and rng.random() < 0.05 else w
    ),
}
