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

from collections.abc import Sequence
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from structlog.typing import FilteringBoundLogger

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


NOTE_FRESH = timedelta(seconds=1)
"""How long, by the ledger's clock, a lease check stays good for the creates that start
after it. The window of bridge.ledger.leases (a create reaching the target a whole TTL
after the last check) grows by at most this."""


@dataclass(frozen=True)
class Step:
    """A call in flight for a create: its search by reference, or the create itself."""

    action: Create
    search: bool


@dataclass(frozen=True)
class Noted:
    """Creates noted as sending with their intents, and when (before that commit)."""

    refs: Sequence[str] = ()
    at: datetime | None = None
    """The ledger's time before that commit (which renewed the lease); None: not checked."""


def ahead(route: Route, sends: Sequence[Sends]) -> Noted:
    """The creates a page's intents note as sending: every first attempt of the page.

    Noting them all in the intents' commit saves a commit per create; the sending log
    (``bridge.ledger.sending_log``) then tells a successor which of them never started,
    and it sends those at once. A resend or an adoption is noted alone when it starts,
    as before: an earlier attempt of it may still be on its way.
    """
    return Noted(
        [a.ref for a in sends if isinstance(a, Create) and _first_attempt(a)], route.memory.now()
    )


def _first_attempt(action: Create) -> bool:
    """True for a create never tried before and offered no copy to adopt."""
    return not (action.resend or action.adopt)


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
        self._noted, self._checked_at = set(noted.refs), noted.at
        self.log: FilteringBoundLogger = log.bind(route=self.route.name)  # once per page

    def begin(self, action: Sends) -> None:
        """Link it, or start its search or its create (both remote: on a worker)."""
        if isinstance(action, Link):
            self.tally.add(_linked(self.route, action, self.report, self.log))
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
            self.tally.add(outcome(self.route, step.action, future, self.report, self.log))

    def _create(self, action: Create, found: list[Found]) -> None:
        settled = _settled(action, found, self.options.adopt)
        if isinstance(settled, Link):
            self.tally.add(_linked(self.route, settled, self.report, self.log))
            return
        self._wait_for_room()
        if settled.resend:
            wait_for_predecessor(self.route, settled.ref)
        if self.options.before_create is not None:
            self.options.before_create()  # a rate limit, which may wait: the fence comes after
        self._note_sending(settled.ref)
        self.flight.start(Step(settled, False), partial(_create, self.route, settled))

    def _note_sending(self, ref: str) -> None:
        """The last thing before a create starts: the lease fence and the sending note.

        Never create for a route another replica took; renew the lease for a whole TTL so a
        slow create keeps it (bridge.ledger.leases): one check covers the creates that
        start within ``NOTE_FRESH`` of it. A create noted with the page's intents is
        written to the sending log as started; any other is noted (``sent_at``) alone.
        """
        memory = self.route.memory
        now = memory.now()
        if ref not in self._noted:
            memory.sending_creates([ref])  # the fence, renewing, and the note: one commit
            self._checked_at = now
        elif self._checked_at is None or now - self._checked_at >= NOTE_FRESH:
            # A rate limit may have waited since: the check comes after it, right here.
            memory.check_fence()
            self._checked_at = now
        memory.starting_create(ref)

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
                sent = outcome(self.route, step.action, future, self.report, self.log)
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


def _linked(
    route: Route, action: Link, report: CycleReport, bound: FilteringBoundLogger
) -> CreateResult:
    report.add(line_for(action))
    bound.info("complaint.adopted", ref=action.ref, target_id=action.target_id)
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
