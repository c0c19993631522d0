"""A ledger lost, replaced or shared by two agencies never doubles a complaint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.model import REF_PATTERN, made_by, make_ref
from bridge.sync import CycleOptions, Route, run_cycle
from tests.conftest import MAPPINGS
from tests.engine.conftest import door_of, door_record, hub_of, make_route, memory

AGENCY = "pemkab-badung"


@pytest.fixture(autouse=True)
def _fresh_stores() -> Iterator[None]:
    MemoryConnector.reset_stores()
    yield
    MemoryConnector.reset_stores()


def _ledger(tmp_path: Path, name: str) -> Ledger:
    return Ledger.open(f"sqlite:///{tmp_path / name}")


def _forward(ledger: Ledger, installation: str = AGENCY) -> Route:
    return replace(make_route(ledger), installation=installation)


def _delivered_then_lost(
    tmp_path: Path, count: int, route: Route | None = None, installation: str = AGENCY
) -> Ledger:
    """``count`` door complaints delivered with one ledger, which is then lost: a new, empty one.

    ``route`` (default: the forward route of ``installation``) runs on the first ledger.
    """
    first = _ledger(tmp_path, "ledger.db")
    route = replace(route or _forward(first, installation), ledger=first)
    for i in range(1, count + 1):
        door_of(route).put(door_record(i, updated_at=f"2026-03-01T10:00:{i:02d}+08:00"))
    assert run_cycle(route).counts["create"] == count
    first.close()
    return _ledger(tmp_path, "empty.db")


def _searches(route: Route) -> list[str]:
    """Record every search of the route's target by reference."""
    seen: list[str] = []
    real = route.target.find_by_ref

    def find(ref: str) -> str | None:
        seen.append(ref)
        return real(ref)

    route.target.find_by_ref = find  # type: ignore[method-assign]
    return seen


def test_references_are_unique_per_installation_and_recognisable() -> None:
    """Two agencies with alike connector names make different references; each knows its own."""
    a, b = make_ref("door", "1", "pemkab-a"), make_ref("door", "1", "pemkab-b")
    assert a != b and REF_PATTERN.match(a) and REF_PATTERN.match(b)
    assert made_by(a, "pemkab-a") and not made_by(b, "pemkab-a")
    # The older form (no installation) stays readable, and is nobody's in particular.
    older = make_ref("door", "1")
    assert REF_PATTERN.match(older) and not made_by(older, "pemkab-a")


def test_a_lost_ledger_finds_every_copy_and_creates_none(tmp_path: Path) -> None:
    """The ledger file is gone: the next pass looks each record up and links it, 0 creates."""
    replacement = _delivered_then_lost(tmp_path, 10)
    route = _forward(replacement)
    searches = _searches(route)
    report = run_cycle(route)
    assert report.counts["create"] == 0 and report.counts["link"] == 10
    assert len(hub_of(route).records()) == 10 and len(searches) == 10
    # The pass is done: a new complaint is created without a search per record.
    door_of(route).put(door_record(11))
    searches.clear()
    later = run_cycle(route)
    assert later.counts["create"] == 1 and searches == []
    replacement.close()


def test_a_ledger_restored_from_an_old_copy_doubles_nothing(tmp_path: Path) -> None:
    """A backup taken before the last creates: those complaints are found, not sent again."""
    ledger = _ledger(tmp_path, "ledger.db")
    route = _forward(ledger)
    for i in range(1, 6):
        door_of(route).put(door_record(i))
    run_cycle(route)
    ledger.close()  # a whole file to copy, write-ahead log included
    backup = tmp_path / "backup.db"
    backup.write_bytes((tmp_path / "ledger.db").read_bytes())
    ledger = _ledger(tmp_path, "ledger.db")
    route = _forward(ledger)
    for i in range(6, 11):
        door_of(route).put(door_record(i))
    run_cycle(route)
    ledger.close()

    restored = Ledger.open(f"sqlite:///{backup}")
    restored.meta.require_adoption()  # what `bridge ledger accept` / `restore` do
    report = run_cycle(_forward(restored))
    assert report.counts["create"] == 0 and report.counts["link"] == 5
    assert len(hub_of(route).records()) == 10
    restored.close()


def test_a_target_that_cannot_be_searched_is_read_once_for_its_copies(tmp_path: Path) -> None:
    """Without a search by reference, the first pass reads the target whole and adopts by it."""
    replacement = _delivered_then_lost(tmp_path, 5)
    route = _forward(replacement)
    route.target.can_find_by_ref = False
    report = run_cycle(route)
    assert report.counts["create"] == 0 and report.counts["link"] == 5
    assert len(hub_of(route).records()) == 5
    replacement.close()


def _reverse(ledger: Ledger, installation: str = AGENCY) -> Route:
    """LAPOR! → the door: the route that brings dispositions home."""
    return Route(
        name="hub-to-door",
        source=memory("hub"),
        target=memory("door"),
        source_mapping=load_mapping(MAPPINGS / "lapor.toml"),
        target_mapping=load_mapping(MAPPINGS / "sidumas.toml"),
        ledger=ledger,
        installation=installation,
    )


def test_the_bridges_own_copies_are_never_brought_back_home(tmp_path: Path) -> None:
    """After a lost ledger, LAPOR! copies of door complaints are not created in the door again."""
    replacement = _delivered_then_lost(tmp_path, 5)
    backward = _reverse(replacement)
    # The door cannot be searched, as most cannot: only the references decide.
    backward.target.can_find_by_ref = False
    report = run_cycle(backward)
    assert report.counts["create"] == 0 and report.counts["withhold"] == 5
    assert len(door_of(_forward(replacement)).records()) == 5
    withheld = [line.reason or "" for line in report.lines if line.action == "withhold"]
    assert len(withheld) == 5 and all("copy the bridge made" in r for r in withheld)
    replacement.close()


def test_another_agencys_complaint_is_still_brought_home(tmp_path: Path) -> None:
    """A LAPOR! complaint carrying another installation's reference is created in the door."""
    other = _ledger(tmp_path, "other.db")
    theirs = _forward(other, installation="pemkab-gianyar")
    door_of(theirs).put(door_record(1))
    run_cycle(theirs)
    other.close()
    ours = _ledger(tmp_path, "ours.db")
    backward = replace(_reverse(ours), target=memory("our-door"))
    report = run_cycle(backward)
    assert report.counts["create"] == 1
    ours.close()


def test_two_agencies_with_alike_connector_names_never_adopt_each_others_complaint(
    tmp_path: Path,
) -> None:
    """Agency A's create answer is lost: it finds its own complaint, never agency B's."""
    ledger_a, ledger_b = _ledger(tmp_path, "a.db"), _ledger(tmp_path, "b.db")
    # Both agencies call their door connector "door"; each door has its record "1".
    route_a = replace(_forward(ledger_a, "pemkab-a"), source=_door_named_door("store-a"))
    route_b = replace(_forward(ledger_b, "pemkab-b"), source=_door_named_door("store-b"))
    door_of(route_b).put(door_record(1))
    door_of(route_a).put(door_record(1))
    run_cycle(route_b)
    hub_of(route_a).drop_response_after_create = True
    run_cycle(route_a)
    hub_of(route_a).drop_response_after_create = False
    healed = run_cycle(route_a)
    assert healed.counts["link"] == 1
    hub_ids = [str(r["id"]) for r in hub_of(route_a).records()]
    assert len(hub_ids) == 2
    linked_a, linked_b = (
        ledger_a.links.by_remote("hub", hub_ids),
        ledger_b.links.by_remote("hub", hub_ids),
    )
    assert len(linked_a) == 1 and len(linked_b) == 1 and set(linked_a) != set(linked_b)
    ledger_a.close()
    ledger_b.close()


def _door_named_door(store: str) -> MemoryConnector:
    return MemoryConnector("door", MemorySettings(type="memory", store=store, feed="scan"))


def test_a_dry_run_on_a_new_ledger_shows_what_the_pass_would_link(tmp_path: Path) -> None:
    """Before anything is written: the first pass's links are reported, nothing is created."""
    replacement = _delivered_then_lost(tmp_path, 4)
    route = _forward(replacement)
    door_of(route).put(door_record(5))
    planned = run_cycle(_forward(replacement), dry_run=True)
    assert planned.counts["link"] == 4 and planned.counts["create"] == 1
    assert len(hub_of(route).records()) == 4
    assert replacement.meta.get("adopted:door-to-hub") is None
    replacement.close()


def test_a_rebuild_links_what_the_target_holds_and_creates_nothing(
    tmp_path: Path, cursor_mapping: Path
) -> None:
    """link_only: copies found by reference are linked; the rest stay owed, the cursor stays."""
    with _ledger(tmp_path, "unused.db") as unused:  # make_route wants one; replaced below
        route = make_route(unused, feed="cursor", source_mapping=cursor_mapping)
    route = replace(route, installation=AGENCY)
    replacement = _delivered_then_lost(tmp_path, 4, route)
    route = replace(route, ledger=replacement)
    door_of(route).put(door_record(5, updated_at="2026-03-01T10:00:05+08:00"))
    rebuilt = run_cycle(route, options=CycleOptions(adopting=True, link_only=True))
    assert rebuilt.counts["link"] == 4 and rebuilt.counts["not_found"] == 1
    assert len(hub_of(route).records()) == 4
    assert replacement.cycles.cursor("door-to-hub", "door") is None
    # The next ordinary cycle sends the one the target did not have, once.
    after = run_cycle(route)
    assert after.counts["create"] == 1 and len(hub_of(route).records()) == 5
    replacement.close()


def test_copies_wait_for_the_route_the_other_way_whatever_their_reference(tmp_path: Path) -> None:
    """No installation named (older references): the way home waits, then doubles nothing."""
    replacement = _delivered_then_lost(tmp_path, 5, installation="")
    forward = replace(_forward(replacement, ""), reverse_routes=("hub-to-door",))
    backward = replace(_reverse(replacement, ""), reverse_routes=("door-to-hub",))
    backward.target.can_find_by_ref = False
    # The way home runs first, as a daemon's schedule may have it: its copies wait.
    first = run_cycle(backward)
    assert first.counts["deferred"] == 5 and first.counts["create"] == 0
    assert run_cycle(forward).counts["link"] == 5
    # The door's complaints are linked to their LAPOR! copies now: nothing comes back.
    second = run_cycle(backward)
    assert second.counts["create"] == 0 and second.counts["deferred"] == 0
    assert len(door_of(forward).records()) == 5 and len(hub_of(forward).records()) == 5
