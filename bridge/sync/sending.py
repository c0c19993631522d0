"""Sending a page's creates and links: up to the target's ``max_concurrency`` in flight.

Every ledger write stays on the engine's thread, in the order ``bridge.sync.act`` gives:
the intents are committed before ``send_all`` starts; each create is settled (a copy
found by reference is linked instead; the search runs on a worker), waits for its rate,
and is noted as being sent (``_note_sending``: the lease fence) on this thread just
before its request is handed to a worker. Only the remote calls (searches, attachment
downloads, uploads, the create) run on the workers. Outcomes are recorded as they come
back. When one stops the page (a 429, the bridge stopping, a lost lease, a failing
target), nothing more starts and the creates still in flight are awaited: what they
delivered is kept, so the page's commit records every create that was made.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from functools import partial
from typing import Any

import structlog

from bridge import storable
from bridge.connector import Connector
from bridge.ledger import CreateResult
from bridge.model import Attachment
from bridge.sync.adoption import Adoption, Found, claim_links
from bridge.sync.inflight import InFlight
from bridge.sync.observe import look_up
from bridge.sync.outcomes import Tally, outcome, wait_for_predecessor
from bridge.sync.plan import Create, Link, Sends
from bridge.sync.report import CycleReport, line_for
from bridge.sync.route import CycleOptions, Route

# Logged as the engine's: these are steps of its cycle.
log = structlog.get_logger("bridge.engine")


NOTE_FRESH = 1.0
"""Seconds a sending note stays good for the creates it named. The window of
bridge.ledger.leases (a create reaching the target a whole TTL after the last check)
grows by at most this."""


@dataclass(frozen=True)
class Step:
    """A call in flight for a create: its search by reference, or the create itself."""

    action: Create
    search: bool


@dataclass(frozen=True)
class Noted:
    """Creates noted as sending with their intents, and when (before that commit)."""

    refs: Sequence[str] = ()
    at: float = -NOTE_FRESH


def ahead(route: Route, sends: Sequence[Sends]) -> Noted:
    """The creates a page's intents may note as sending: those that start at once.

    The first ``max_concurrency`` calls of the page start together; among them, the
    creates that need no search and no wait for a predecessor.
    """
    calls = [a for a in sends if isinstance(a, Create)][: route.target.max_concurrency]
    at = time.monotonic()
    return Noted([a.ref for a in calls if _starts_at_once(a)], at)


def _starts_at_once(action: Create) -> bool:
    """True for a create sent with no search before it and no wait for a predecessor."""
    return not (action.search_first or action.resend or action.adopt)


def send_all(
    route: Route,
    sends: Sequence[Sends],
    report: CycleReport,
    options: CycleOptions,
    tally: Tally,
    noted: Noted = Noted(),
) -> None:
    """Send ``sends`` in order; ``tally`` holds what was delivered, also when this raises."""
    sender = _Sender(route, report, options, tally, sends, noted)
    try:
        for action in sends:
            sender.begin(action)
            while sender.flight.ready():
                sender.take()
        while sender.flight:
            sender.take()
    except BaseException:
        sender.drain()
        raise
    finally:
        sender.flight.close()


@dataclass
class _Sender:
    route: Route
    report: CycleReport
    options: CycleOptions
    tally: Tally
    sends: InitVar[Sequence[Sends]]
    noted: InitVar[Noted]

    def __post_init__(self, sends: Sequence[Sends], noted: Noted) -> None:
        limit = self.route.target.max_concurrency
        self.flight: InFlight[Step, Any] = InFlight(limit, "bridge-create")
        # Creates that may be noted as sending with another that starts: those that start
        # next without a search or an adoption (a resend waits for its predecessor first).
        self.upcoming = {a.ref: a for a in sends if isinstance(a, Create) and _starts_at_once(a)}
        self._noted, self._noted_at = set(noted.refs), noted.at

    def begin(self, action: Sends) -> None:
        """Link it, or start its search or its create (both remote: on a worker)."""
        if isinstance(action, Link):
            self.upcoming.pop(action.ref, None)
            self.tally.add(_linked(self.route, action, self.report))
        elif action.search_first:
            search = partial(look_up, self.route, action.ref, action.observation.source_id)
            self._wait_for_room()
            self.flight.start(Step(action, True), search)
        else:
            self._create(action, [])

    def take(self) -> None:
        """A call's outcome: a search leads to a link or a create, a create is recorded."""
        step, future = self.flight.take()
        if step.search:
            # A failed search stops the page (the target is not answering), as before.
            self._create(step.action, future.result())
        else:
            self.tally.add(outcome(self.route, step.action, future, self.report))

    def _create(self, action: Create, found: list[Found]) -> None:
        settled = _settled(action, found, self.options.adopt)
        self.upcoming.pop(action.ref, None)
        if isinstance(settled, Link):
            self.tally.add(_linked(self.route, settled, self.report))
            return
        self._wait_for_room()
        if settled.resend:
            wait_for_predecessor(self.route, settled.ref)
        if self.options.before_create is not None:
            self.options.before_create()  # a rate limit, which may wait: the fence comes after
        self._note_sending(settled.ref)
        self.flight.start(Step(settled, False), partial(_create, self.route, settled))

    def _note_sending(self, ref: str) -> None:
        """The last thing before a create starts: the lease fence and the ``sent_at`` note.

        Never create for a route another replica took; renew the lease for a whole TTL so a
        slow create keeps it; note the sending for a successor (bridge.ledger.leases). One
        note covers the creates that start with it (as many as may be in flight, those
        that need no search first), for ``NOTE_FRESH`` seconds. Only those: a create
        noted as sent that never left would make a successor wait for it after a crash.
        """
        if ref in self._noted and time.monotonic() - self._noted_at < NOTE_FRESH:
            return
        room = self.route.target.max_concurrency - self.flight.running()
        batch = [ref, *(r for r in self.upcoming if r != ref)][: max(1, room)]
        self.route.memory.sending_creates(batch)
        self._noted, self._noted_at = set(batch), time.monotonic()

    def _wait_for_room(self) -> None:
        while self.flight.full():
            self.flight.wait()

    def drain(self) -> None:
        """The page stops: keep every create still in flight that the target confirmed."""
        while self.flight:
            step, future = self.flight.take()
            if step.search:
                continue  # nothing was written
            try:
                sent = outcome(self.route, step.action, future, self.report)
            except Exception as exc:  # noqa: BLE001 - the page already stops for the first error
                error = type(exc).__name__
                log.warning("complaint.unconfirmed", route=self.route.name, error=error)
                continue
            if isinstance(sent, CreateResult):
                self.tally.results.append(sent)


def settle(route: Route, action: Create, adoption: Adoption | None) -> Create | Link:
    """A create the target may hold already, searched for by reference: a copy found is
    linked, else the copy an adoption offered (``Create.adopt``), which is claimed then.

    Done just before the create is sent, so a page cut short wastes no search. The dry run
    settles its creates the same way, so it says what the run does.
    """
    found = look_up(route, action.ref, action.observation.source_id) if action.search_first else []
    return _settled(action, found, adoption)


def _settled(action: Create, found: list[Found], adoption: Adoption | None) -> Create | Link:
    if not found and action.adopt is not None:
        found = [action.adopt]
        claim_links(adoption, found)
    if found:
        return Link(action.ref, action.observation, action.outgoing, found[0])
    return action


def _linked(route: Route, action: Link, report: CycleReport) -> CreateResult:
    report.add(line_for(action))
    log.info("complaint.adopted", route=route.name, ref=action.ref, target_id=action.target_id)
    target_hash = action.outgoing.target_hash
    return CreateResult(action.ref, route.target.name, action.target_id, target_hash, adopted=True)


def _create(route: Route, action: Create) -> str:
    """The remote part of a create (on a worker): attachments, uploads, the create."""
    leaving = action.outgoing.complaint
    attachments = tuple(_with_content(route.source, a) for a in leaving.attachments)
    created = route.target.create(action.outgoing.payload, attachments, action.ref)
    return storable.checked_remote_id(created, route.target.name)


def _with_content(source: Connector, attachment: Attachment) -> Attachment:
    if attachment.content is not None:
        return attachment
    content = source.download(attachment)
    return attachment.model_copy(update={"content": content, "size": len(content)})
