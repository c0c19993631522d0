"""Property: anonim identities and rahasia complaints never reach a system they must not.

A Hypothesis state machine over a local door ("home", SIDUMAS-shaped, not marked
``receives_confidential``) and LAPOR! ("hub", which receives confidential complaints),
one route each way and one ledger. Citizens file on either side, anonim or rahasia or
neither, and write their name, NIK, phone and e-mail into the text in varied spellings
and into their replies; LAPOR! admins mark complaints rahasia after they were linked;
follow-ups, flags and cycles arrive in any order. After every step:

- no anonim complaint's reporter identity (name or a part of it, NIK or phone in any
  grouping, e-mail) is on the other system, in any record or follow-up;
- home holds no copy of a complaint filed rahasia at the hub, and no follow-up posted
  after its complaint became rahasia;
- no scrubbed reply came back to where it was written (no echo).
"""

from __future__ import annotations

import os
import string
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.ledger import Ledger
from bridge.mapping import load_mapping
from bridge.privacy.identity import MARKER
from bridge.sync import Route, run_cycle
from tests.conftest import MAPPINGS
from tests.engine.conftest import door_record
from tests.engine.test_convergence import Clock

SIDUMAS = load_mapping(MAPPINGS / "sidumas.toml")
LAPOR = load_mapping(MAPPINGS / "lapor.toml")
WORD = st.text(string.ascii_lowercase, min_size=4, max_size=8).map(str.capitalize)


def spelled(digits: str, style: int) -> str:
    """A number as people write it: plain, in groups of four by space, dot or hyphen."""
    if style == 0:
        return digits
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    return " .-"[style - 1].join(groups)


# Every fixed word of the machine's texts: a name part equal to one would "leak" by chance.
VOCABULARY = (
    "saya nik hp surel warga jalan rusak di banjar laporan dari pungutan liar pasar menunggu "
    "kadis menerima ini mohon segera diperbaiki sudah membahayakan pengendara motor raya kuta "
    "made wirawan example petugas dinas identitas disamarkan"
)


@st.composite
def identities(draw: st.DrawFn) -> dict[str, str]:
    """A reporter: a two-word name, a NIK, a phone and an e-mail (numbers unique per filing)."""
    first, last = draw(WORD), draw(WORD)
    tail = draw(st.text(string.digits, min_size=4, max_size=4))
    return {"name": f"{first} {last}", "tail": tail}


def texts_of(value: Any) -> list[str]:
    """Every string inside a record (keys left out), nested dicts and lists included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in texts_of(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in texts_of(v)]
    return []


def leaks(person: dict[str, str], text: str) -> list[str]:
    """Which parts of ``person``'s identity ``text`` shows, in any spelling."""
    lowered, digits = text.lower(), "".join(ch for ch in text if ch.isdigit())
    found = [part for part in person["name"].lower().split() if part in lowered]
    found += [k for k in ("nik", "phone") if person[k][1:] in digits]
    return found + (["email"] if person["email"].lower() in lowered else [])


class PrivacyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        MemoryConnector.reset_stores()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = Clock()
        path = Path(self.tmp.name) / "ledger.db"
        self.ledger = Ledger.open(f"sqlite:///{path}", clock=self.clock)
        home = {"status": 0, "status_pengaduan": "Menunggu"}
        hub = {"status_code": 0, "status_name": "Belum Terverifikasi"}
        self.home = MemoryConnector(
            "home", MemorySettings(type="memory", store="home", defaults=home)
        )
        self.hub = MemoryConnector(
            "hub",
            MemorySettings(type="memory", store="hub", defaults=hub, receives_confidential=True),
        )
        self.routes = [
            self._route("home-to-hub", self.home, self.hub, SIDUMAS, LAPOR),
            self._route("hub-to-home", self.hub, self.home, LAPOR, SIDUMAS),
        ]
        self.filed = 0
        self.parts: list[str] = []
        self.anonymous: list[dict[str, str]] = []
        """Identities that must stay on the side they were written on (home or hub)."""
        self.home_secrets: set[str] = set()
        """Texts (titles, follow-ups) home must never hold."""

    def _route(self, name: str, source: Any, target: Any, s_map: Any, t_map: Any) -> Route:
        reverse = "hub-to-home" if name == "home-to-hub" else "home-to-hub"
        return Route(
            name=name, source=source, target=target, source_mapping=s_map,
            target_mapping=t_map, ledger=self.ledger, reverse_routes=(reverse,),
            clock=self.clock, repoll_budget=10_000,
        )  # fmt: skip

    def _person(self, drawn: dict[str, str]) -> dict[str, str]:
        """``drawn`` made unique: no name part inside another's, numbers keyed by filing."""
        parts = drawn["name"].lower().split()
        clash = [p for p in parts if p in VOCABULARY or any(p in q or q in p for q in self.parts)]
        assume(not clash and parts[0] != parts[1] and parts[0] not in parts[1])
        self.parts.extend(parts)
        self.filed += 1
        n = f"{self.filed:04d}"
        return {
            "name": drawn["name"],
            "nik": f"31{n}77{drawn['tail']}{drawn['tail']}",
            "phone": f"0812{n}{drawn['tail']}",
            "email": f"{parts[1]}{n}@warga.id",
        }

    def teardown(self) -> None:
        self.ledger.close()
        self.tmp.cleanup()
        MemoryConnector.reset_stores()

    # -- what people do ----------------------------------------------------------------

    @rule(person=identities(), anonim=st.booleans(), rahasia=st.booleans(), style=st.integers(0, 3))
    def citizen_files_at_home(
        self, person: dict[str, str], anonim: bool, rahasia: bool, style: int
    ) -> None:
        person = self._person(person)
        name = person["name"] if style % 2 else person["name"].upper()
        nik, phone = spelled(person["nik"], style), spelled(person["phone"], style)
        text = (
            f"Saya {name}, NIK {nik}, HP {phone}, surel {person['email']}. "
            f"Jalan rusak di banjar {self.filed}."
        )
        record = door_record(
            self.filed, pelapor=person["name"], nik=person["nik"], telp=person["phone"],
            email=person["email"], uraian=text, hide_identitas=int(anonim),
            hide_pengaduan=int(rahasia), topik=f"Laporan {self.filed} dari {person['name']}",
        )  # fmt: skip
        self.home.put(record)
        if anonim:
            self.anonymous.append(person | {"side": "home"})

    @rule(person=identities(), anonim=st.booleans(), rahasia=st.booleans(), style=st.integers(0, 3))
    def citizen_files_at_hub(
        self, person: dict[str, str], anonim: bool, rahasia: bool, style: int
    ) -> None:
        person = self._person(person)
        title = f"Pungutan liar di pasar {self.filed}"
        self.hub.put(
            {
                "id": f"hub-{self.filed}", "title": title,
                "content": f"NIK {spelled(person['nik'], style)}, HP {person['phone']}.",
                "category_id": 2, "status_code": 2, "status_name": "Dalam Proses",
                "disposition_id": 1001, "is_anonymous": int(anonim), "is_secret": int(rahasia),
                "created_at": "2026-02-27 08:00:00",
            }
        )  # fmt: skip
        if anonim:  # LAPOR! knows no name here: the numbers must not leave
            self.anonymous.append(person | {"name": "", "side": "hub"})
        if rahasia:
            self.home_secrets.add(title)

    @precondition(lambda self: any("pelapor" in r for r in self.home.records()))
    @rule(data=st.data())
    def citizen_replies_at_home(self, data: st.DataObject) -> None:
        filed = [r for r in self.home.records() if "pelapor" in r]  # by a citizen, at home
        record = data.draw(st.sampled_from(filed))
        self.filed += 1
        self.home.post_followup(
            record["id"],
            {
                "tanggapan": f"Saya {record['pelapor']} ({record['telp']}) menunggu. #{self.filed}",
                "nama": record["pelapor"],
                "tipe": 2,
                "created_at": "2026-03-01 09:00:00",
            },
        )

    @precondition(lambda self: self.hub.records())
    @rule(data=st.data())
    def officer_answers_at_hub(self, data: st.DataObject) -> None:
        record = data.draw(st.sampled_from(self.hub.records()))
        self.filed += 1
        text = f"Kadis menerima laporan ini. #{self.filed}"
        self.hub.post_followup(
            record["id"],
            {"content": text, "institution_from_id": 1, "created_at": "01-03-2026 09:00:00"},
        )
        if record.get("is_secret") in (1, True):
            self.home_secrets.add(text)

    @precondition(lambda self: self.hub.records())
    @rule(data=st.data())
    def admin_marks_rahasia_at_hub(self, data: st.DataObject) -> None:
        record = data.draw(st.sampled_from(self.hub.records()))
        self.hub.change(record["id"], is_secret=1)

    @rule(which=st.sampled_from([0, 1]))
    def sync(self, which: int) -> None:
        self.clock.now += timedelta(hours=1)  # re-polls come due without waiting
        run_cycle(self.routes[which])

    # -- what must always hold ----------------------------------------------------------

    @invariant()
    def no_anonymous_identity_crossed(self) -> None:
        for person in self.anonymous:
            other = self.hub if person["side"] == "home" else self.home
            for record in other.records():
                for text in texts_of(record):
                    assert not leaks(person, text), f"{leaks(person, text)} reached {other.name}"

    @invariant()
    def home_holds_nothing_rahasia(self) -> None:
        for record in self.home.records():
            for text in texts_of(record):
                assert not any(secret in text for secret in self.home_secrets), text

    @invariant()
    def no_scrubbed_reply_came_home(self) -> None:
        for record in self.home.records():
            for followup in record.get("_followups", []):
                assert MARKER not in str(followup.get("tanggapan")), "an echo of a scrubbed reply"


PrivacyMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("BRIDGE_PRIVACY_EXAMPLES", "12")),
    derandomize=not os.environ.get("BRIDGE_PRIVACY_EXAMPLES"),
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.timeout(900)
class TestPrivacy(PrivacyMachine.TestCase):  # type: ignore[name-defined, misc, valid-type]
    """Whatever order filings, flags, replies and cycles come in, no privacy rule is broken."""
