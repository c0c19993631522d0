"""An unknown category code never holds a complaint back: delivered with the fallback, flagged."""

from __future__ import annotations

from pathlib import Path

from bridge.errors import RateLimited
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


def door_mapping_with_a_category_lapor_lacks(tmp_path: Path) -> Path:
    """The SIDUMAS mapping reading its code 9 as canonical "pariwisata" (lapor.toml has none)."""
    text = (MAPPINGS / "sidumas.toml").read_text(encoding="utf-8")
    old = '"8" = "lainnya"\n'
    assert old in text
    path = tmp_path / "door-pariwisata.toml"
    path.write_text(text.replace(old, old + '"9" = "pariwisata"\n'), encoding="utf-8")
    return path


def test_a_category_the_target_has_no_code_for_is_written_as_the_fallback_and_flagged(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Canonical "pariwisata" reaches the hub as "lainnya" (8), once, flagged against the hub."""
    route = make_route(ledger, source_mapping=door_mapping_with_a_category_lapor_lacks(tmp_path))
    door_of(route).put(door_record(1, kategori_id=9))
    door_of(route).put(door_record(2, kategori_id=1))
    first = run_cycle(route)
    second = run_cycle(route)
    assert first.ok and first.counts["create"] == 2 and first.counts["review"] == 1
    assert second.ok and second.counts == {"skip": 2}
    assert sorted(r["category_id"] for r in hub_of(route).records()) == [1, 8]
    [flag] = ledger.reviews.listed()
    assert (flag.ref, flag.kind, flag.system, flag.count) == (
        make_ref("door", "1"),
        "code",
        "hub",
        1,
    )
    assert (
        "category 'pariwisata' has no code in [values.category] of the hub mapping" in flag.reason
    )
    assert "written as 'lainnya'" in flag.reason


def test_fallbacks_delivered_before_a_429_stopped_the_page_are_flagged_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    """A 429 stops the page after two creates: the one delivered with a fallback is flagged
    then; the rest are flagged when the next cycle delivers them; no flag counted twice."""
    route = make_route(ledger, source_mapping=door_mapping_with_fallback(tmp_path))
    for n, code in enumerate((436, 1, 1, 15, 1), start=1):
        door_of(route).put(door_record(n, kategori_id=code))
    real = route.target.create
    calls = []

    def create(record, attachments, ref):  # type: ignore[no-untyped-def]
        calls.append(ref)
        if len(calls) == 3:
            raise RateLimited("HTTP 429", retry_after=0)
        return real(record, attachments, ref)

    route.target.create = create  # type: ignore[method-assign]
    stopped = run_cycle(route)
    assert not stopped.ok and stopped.counts["create"] == 2
    flagged = {f.ref: f.count for f in ledger.reviews.listed()}
    assert flagged == {make_ref("door", "1"): 1}
    for _ in range(2):
        assert run_cycle(route).ok
    flagged = {f.ref: f.count for f in ledger.reviews.listed()}
    assert flagged == {make_ref("door", "1"): 1, make_ref("door", "4"): 1}
    assert len(hub_of(route).records()) == 5


def test_an_owed_create_with_a_fallback_is_flagged_once_when_it_is_found(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The hub stored it but the answer was lost: no flag yet; the cycle that links it flags
    it once; later cycles add nothing."""
    route = make_route(ledger, source_mapping=door_mapping_with_fallback(tmp_path))
    door_of(route).put(door_record(1, kategori_id=436))
    hub_of(route).drop_response_after_create = True
    owed = run_cycle(route)
    assert owed.counts["unconfirmed"] == 1 and ledger.reviews.listed() == []
    hub_of(route).drop_response_after_create = False
    linked = run_cycle(route)
    assert linked.counts["link"] == 1 and linked.counts["review"] == 1
    run_cycle(route)
    [flag] = ledger.reviews.listed()
    assert (flag.ref, flag.system, flag.count) == (make_ref("door", "1"), "door", 1)
    assert hub_of(route).creates == 1
