"""The SIDUMAS corpus end to end: simulator → rest connector → engine → LAPOR! simulator."""

from __future__ import annotations

import pytest

from bridge.model import make_ref
from tests.hostile.conftest import TO_LAPOR, Pair
from tests.hostile.corpus import Entry, assert_two_cycles, delivered_by_ref, load

pytestmark = pytest.mark.e2e

CORPUS = load("sidumas")


def seed(pair: Pair, entries: list[Entry]) -> None:
    """Good and hostile records into the SIDUMAS simulator, exactly as written."""
    state = pair.door_state
    for record in CORPUS.good:
        state.upsert_raw(record)
    for entry in entries:
        record = dict(entry.record)
        if "attachment_bytes" in entry.extra:
            size = int(entry.extra["attachment_bytes"])
            record["files"] = [state.store_file(int(record["id"]), "rekaman.mp4", b"\0" * size)]
        if entry.kind == "duplicate_of":
            # upsert_raw replaces a record with the same id: the second copy is appended as is.
            state.records.append(record)
        else:
            state.upsert_raw(record)


def test_every_hostile_sidumas_record_is_set_aside_or_normalised(pair: Pair) -> None:
    """Each corpus entry meets its fate; the good ones land in LAPOR! once; nothing crashes."""
    entries = CORPUS.where("sim")
    seed(pair, entries)

    first = pair.sync(TO_LAPOR)
    second = pair.sync(TO_LAPOR)

    delivered = delivered_by_ref(pair.hub_copies())
    with pair.ledger() as ledger:
        held = assert_two_cycles(
            CORPUS,
            entries,
            first,
            second,
            ledger=ledger,
            route=TO_LAPOR,
            delivered=delivered,
            source_system="sidumas",
        )
    # Set aside once each: unchanged, they are not tried again (no create per cycle for a
    # record LAPOR! refuses); nothing else reached LAPOR!.
    assert all(q.attempts == 1 for q in held.values())
    assert second.counts["skip"] >= len(held)
    expected = len(CORPUS.good) + sum(e.kind == "normalised" for e in entries)
    assert len(pair.hub_state.complaints) == expected


def test_the_oversized_attachment_reason_names_the_hub_limit(pair: Pair) -> None:
    """A 413 from LAPOR!'s upload is a RemoteRejected: the reason says which limit was hit."""
    entry = CORPUS.entry("attachment-over-the-hub-limit")
    seed(pair, [entry])
    report = pair.sync(TO_LAPOR)
    assert report.ok, report.error
    with pair.ledger() as ledger:
        [held] = ledger.quarantine.listed(TO_LAPOR)
    assert "HTTP 413" in held.reason and "262144 bytes" in held.reason
    refs = delivered_by_ref(pair.hub_copies())
    assert make_ref("sidumas", str(entry.native_id)) not in refs
    assert len(refs) == len(CORPUS.good)
