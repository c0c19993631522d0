"""The ``Ledger``: opens the database and holds one object per concept of the bridge's memory.

Each concept is its own small class in its own module, and every call on it is one
short transaction::

    ledger.links        identities of complaints in each system   (bridge.ledger.links)
    ledger.creates      intents before remote creates, results     (bridge.ledger.creates)
    ledger.quarantine   records set aside, retries                 (bridge.ledger.quarantine)
    ledger.followups    follow-ups and their copies                (bridge.ledger.followups)
    ledger.statuses     complaint statuses                         (bridge.ledger.statuses)
    ledger.reviews      flags for a person to look at              (bridge.ledger.reviews)
    ledger.polls        the re-poll schedule                       (bridge.ledger.polls)
    ledger.history      a complaint's story, decisions             (bridge.ledger.history)
    ledger.cycles       runs, cursors, page commits, status        (bridge.ledger.cycles)
    ledger.health       connector failures and pauses              (bridge.ledger.health)
    ledger.notices      what connectors say about their set-up     (bridge.ledger.notices)
    ledger.leases       route leases and fencing                   (bridge.ledger.leases)
    ledger.systems      system names, renaming one                 (bridge.ledger.systems)
    ledger.meta         ledger_meta keys                           (bridge.ledger.meta)
    ledger.duplicates   the duplicate index, its review queue      (bridge.ledger.duplicates)

They share one ``Database`` (``bridge.ledger.base``): the engine, the clock, and the
lease fences, so a route's writes are fenced alike whichever concept makes them.
The sync engine sees one route's part through ``RouteLedger`` (``bridge.ledger.route``).
"""

from __future__ import annotations

from typing import Self

from sqlalchemy import Engine

from bridge.ledger import db, meta
from bridge.ledger.base import Clock, Database, utc_now
from bridge.ledger.creates import Creates
from bridge.ledger.cycles import Cycles
from bridge.ledger.duplicates import Duplicates
from bridge.ledger.followups import Followups
from bridge.ledger.health import Health
from bridge.ledger.history import History
from bridge.ledger.leases import Leases
from bridge.ledger.links import Links
from bridge.ledger.meta import LedgerIdentity, Meta
from bridge.ledger.notices import Notices
from bridge.ledger.polls import Polls
from bridge.ledger.quarantine import Quarantine
from bridge.ledger.reviews import Reviews
from bridge.ledger.route_links import RouteLinks
from bridge.ledger.statuses import Statuses
from bridge.ledger.systems import Systems

__all__ = ["Clock", "Ledger", "utc_now"]


class Ledger:
    """The bridge's memory of every route, one attribute per concept (see the module docstring)."""

    def __init__(self, engine: Engine, url_for_display: str, clock: Clock = utc_now) -> None:
        self.url_for_display = url_for_display
        self.db = Database(engine, clock)
        self.links = Links(self.db)
        self.creates = Creates(self.db)
        self.quarantine = Quarantine(self.db)
        self.followups = Followups(self.db)
        self.statuses = Statuses(self.db)
        self.reviews = Reviews(self.db)
        self.polls = Polls(self.db)
        self.route_links = RouteLinks(self.db)
        self.history = History(self.db)
        self.cycles = Cycles(self.db)
        self.health = Health(self.db)
        self.notices = Notices(self.db)
        self.leases = Leases(self.db)
        self.systems = Systems(self.db)
        self.meta = Meta(self.db)
        self.duplicates = Duplicates(self.db)

    @classmethod
    def open(cls, url: str, *, create: bool = True, clock: Clock = utc_now) -> Self:
        """Connect and migrate to head; a ConfigError says how to fix a bad URL or server.

        ``create=False`` is for commands that must not change the ledger: nothing is
        created or migrated, and a missing or outdated ledger is a ConfigError
        (``LedgerMissing``, ``LedgerOutdated``) that says which command creates it.
        """
        engine, parsed = db.connect(url, create=create)
        return cls(engine, db.display(parsed), clock)

    def identity(self) -> LedgerIdentity:
        """Which ledger this is, and how many cycles were started in it."""
        with self.db.read() as session:
            return meta.identity(session)

    def close(self) -> None:
        self.creates.log.close()
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({self.url_for_display!r})"
