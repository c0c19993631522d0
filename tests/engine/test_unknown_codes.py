"""An unknown category code never holds a complaint back: delivered with the fallback, flagged."""

from __future__ import annotations

from pathlib import Path

from bridge.ledger import Ledger
from bridge.model import make_ref
from bridge.sync import run_cycle
from tests.conftest import MAPPINGS
from tests.engine.conftest import door_of, door_record, hub_of, make_route


def door_mapping_with_fallback(tmp_path: Path) -> Path:
    """The SIDUMAS mapping whose category table falls back to "lainnya"."""
    text = (MAPPINGS / "sidumas.toml").read_text(encoding="utf-8")
    old = 'category = { path = "kategori_id", map = "category", type = "int" }'
    assert old in text
    text = text.replace(old, old.removesuffix(" }") + ', fallback = "lainnya" }')
    path = tmp_path / "door-fallback.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_category_is_delivered_once_and_flagged_for_review(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Category 436 reaches the hub as "lainnya" (code 8), once, with one review flag naming it."""
    route = make_route(ledger, source_mapping=door_mapping_with_fallback(tmp_path))
    door_of(route).put(door_record(1, kategori_id=436))
    door_of(route).put(door_record(2, kategori_id=1))
    first = run_cycle(route)
    second = run_cycle(route)
    assert first.ok and first.counts["create"] == 2 and first.counts["review"] == 1
    assert second.ok and second.counts == {"skip": 2}
    created = {r["title"]: r for r in hub_of(route).records()}
    assert created["Jalan berlubang di Banjar 1"]["category_id"] == 8
    assert created["Jalan berlubang di Banjar 2"]["category_id"] == 1
    [flag] = ledger.reviews.listed()
    assert (flag.ref, flag.kind, flag.system) == (make_ref("door", "1"), "code", "door")
    assert "category code 436 is not in [values.category]" in flag.reason
    assert "delivered as 'lainnya'" in flag.reason
    assert "bridge mapping codes door" in flag.reason


def test_known_codes_raise_no_flag(ledger: Ledger, tmp_path: Path) -> None:
    """A complaint whose codes are all mapped is delivered without a review flag."""
    route = make_route(ledger, source_mapping=door_mapping_with_fallback(tmp_path))
    door_of(route).put(door_record(1, kategori_id=3))
    report = run_cycle(route)
    assert report.ok and report.counts["create"] == 1 and "review" not in report.counts
    assert ledger.reviews.listed() == []
