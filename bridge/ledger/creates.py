"""Pending creates: the intent is committed before the remote call, the result after it.

A crash or a lost response between the two leaves a started operation that the
engine finds with ``ledger.creates.pending`` and resolves by looking the remote up
for the bridge's reference before creating again: never two LAPOR! complaints.
The session functions run inside the caller's transaction, so a page's results
commit with its cursor (``bridge.ledger.cycles``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Update, bindparam, literal_column, null, select, update
from sqlalchemy.orm import Session

from bridge.ledger import polls, sending_log
from bridge.ledger.base import Database
from bridge.ledger.events import add_events, event_row
from bridge.ledger.failures import LedgerConflict
from bridge.ledger.links import links_by_remote_id, normal_ticket
from bridge.ledger.prepared import Prepared, PreparedIn, const, insert, session_time
from bridge.ledger.sql import chunks, complaint_ids, require_ids, storable
from bridge.ledger.tables import COMPLAINT, LINK, PENDING_OP
from bridge.ledger.types import (
    CREATE,
    PENDING_DONE,
    PENDING_STARTED,
    CreateIntent,
    CreateResult,
    PendingInfo,
)
from bridge.privacy import scrub_text

# Error texts are already free of secrets and personal data (bridge.errors); this
# only bounds what one failing remote can make the ledger store.
_ERROR_LIMIT = 1000


class Creates:
    """Creates from intent to link: ``ledger.creates``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.log = sending_log.for_ledger(db.engine.url)

    def record_intents(
        self,
        route: str,
        intents: Sequence[CreateIntent],
        *,
        sending: Sequence[str] = (),
        fresh_log: bool = False,
    ) -> None:
        """Commit the intent to create, before the remote call (never two LAPOR! complaints).

        ``sending``: refs of these creates that may start in this page, noted as
        ``sending_many`` would, in the same transaction (one commit, not one per create),
        and in the sending log (``bridge.ledger.sending_log``), which ``starting`` then
        tells which of them started. ``fresh_log`` starts the route's log over.
        """
        with self._db.route_write(route, renew=bool(sending)) as session:
            now = self._db.clock()
            # The intents' complaint ids, just looked up: no second SELECT for the notes.
            ids = record_intents(session, route, intents, now)
            targets = {i.ref: i.target_system for i in intents}
            for target in set(targets.values()):
                cids = [ids[r] for r in sending if targets.get(r) == target]
                _stamp_sent_ids(session, cids, target, now)
        self.log.noted(route, sending, now, fresh=fresh_log)

    def starting(self, route: str, ref: str) -> None:
        """Right before the remote create of ``ref`` leaves (after its ``sent_at`` note)."""
        self.log.starting(route, ref)

    def never_started(self, route: str, pending: PendingInfo) -> bool:
        """True when the create of ``pending``, noted as sending, provably never left."""
        sent_at = pending.sent_at
        return sent_at is not None and self.log.never_started(route, pending.ref, sent_at)

    def pending(
        self, route: str, target_system: str, refs: Sequence[str] | None = None
    ) -> dict[str, PendingInfo]:
        """ref → started create whose outcome is unknown (to look up before re-creating)."""
        fixed = (route, target_system)
        with self._db.read() as session:
            if refs is None:
                rows = session.execute(_pending_query(fixed)).all()
                return {row.ref: PendingInfo(*row) for row in rows}
            found: dict[str, PendingInfo] = {}
            for part in chunks(refs):
                rows = _PENDING.rows(session, fixed, part)
                found.update((row[0], PendingInfo(*row)) for row in rows)
            return found

    def sending(self, route: str, ref: str, target_system: str) -> None:
        """Note, right before the remote create, that it is sent now; fenced and renewing.

        Inside a fenced cycle this is the check before a remote create: ``LeaseLost``
        if the route was taken over, else the lease is renewed for a whole TTL
        (``bridge.ledger.leases``).
        """
        self.sending_many(route, [ref], target_system)

    def sending_many(self, route: str, refs: Sequence[str], target_system: str) -> None:
        """``sending`` for creates about to start together: one check, one commit."""
        with self._db.route_write(route, renew=True) as session:
            _stamp_sent(session, refs, target_system, self._db.clock())

    def complete(self, route: str, results: Sequence[CreateResult]) -> None:
        """Link each created (or adopted) record and close its pending create."""
        with self._db.route_write(route) as session:
            complete_creates(session, route, results, self._db.clock())

    def fail(self, route: str, ref: str, target_system: str, error: str) -> None:
        """Remember why a create failed; the operation stays started, so it is resumed."""
        with self._db.route_write(route) as session:
            _fail_create(session, route, ref, target_system, error, self._db.clock())


def _pending_query(fixed: tuple[str, str] | None = None) -> Select[Any]:
    """Started creates of a route to a target, one column per ``PendingInfo`` field, in order.

    ``fixed``: the route and target as values (else bound as ``route`` and ``target``).
    """
    route_is, target_is = fixed or (bindparam("route"), bindparam("target"))
    columns = [
        COMPLAINT.c[name] if name in ("origin_system", "origin_id") else PENDING_OP.c[name]
        for name in PendingInfo.__dataclass_fields__
    ]
    return (
        select(*columns)
        .join(COMPLAINT, COMPLAINT.c.id == PENDING_OP.c.complaint_id)
        .where(
            PENDING_OP.c.kind == const(CREATE),
            PENDING_OP.c.route == route_is,
            PENDING_OP.c.target_system == target_is,
            PENDING_OP.c.state == const(PENDING_STARTED),
        )
        .order_by(PENDING_OP.c.id)
    )


_PENDING = PreparedIn(
    ("route", "target"),
    lambda _dialect, refs: _pending_query().where(PENDING_OP.c.ref.in_(refs)),
)


def record_intents(
    session: Session, route: str, intents: Sequence[CreateIntent], now: datetime
) -> dict[str, int]:
    """Complaint, source link and a started create, all before the remote call.

    Returns ref → complaint id of the intents' complaints.
    """
    intents = list({(i.ref, i.target_system): i for i in intents}.values())
    if not intents:
        return {}
    at = session_time(session, now)  # once, not once per row
    _upsert_complaints(session, intents, at)
    ids = complaint_ids(session, [i.ref for i in intents])
    _check_source_links(session, intents, ids)
    _upsert_source_links(session, intents, ids, at)
    _upsert_started_ops(session, route, intents, ids, at)
    attempts = _attempts(session, [(ids[i.ref], i.target_system) for i in intents])
    # A create already done has no attempt pending (0): it gets no intent event.
    add_events(session, _intent_events(route, intents, ids, attempts, now))
    return ids


def complete_creates(
    session: Session, route: str, results: Sequence[CreateResult], now: datetime
) -> None:
    """Link each created (or adopted) record and close its pending create."""
    if not results:
        return
    ids = require_ids(session, [r.ref for r in results])
    at = session_time(session, now)  # once, not once per row
    _CREATED_LINKS.run(
        session,
        [
            (ids[r.ref], r.target_system, r.remote_id, r.target_hash, r.target_hash, at, at)
            for r in results
        ],
    )
    _DONE.run(session, [(at, r.target_system, ids[r.ref]) for r in results])
    # Both sides of a new link are re-polled soon, so a status or follow-up added
    # there right after the create is not missed until a later schedule.
    polls.first_poll(session, list(ids.values()), now)
    add_events(session, (_created_event(ids[r.ref], route, r, now) for r in results))


_LINK_HEAD = ("complaint_id", "system", "remote_id", "last_seen_hash")


def _link_upsert(columns: tuple[str, ...], keys: tuple[str, ...], *, copy_from: int) -> Prepared:
    """Links upserted on ``keys``; a conflicting row takes ``columns[copy_from:]``."""
    return Prepared(
        columns, lambda dialect: _copying(insert(dialect, LINK), keys, columns[copy_from:])
    )


_CREATED_LINK_COLUMNS = (*_LINK_HEAD, "last_written_hash", "seen_at", "updated_at")
# A create completed again (an adoption) moves the link to the record found.
_CREATED_LINKS = _link_upsert(_CREATED_LINK_COLUMNS, ("complaint_id", "system"), copy_from=2)
_DONE = Prepared(
    ("updated_at", "target", "cid"),
    lambda _dialect: _pending_create(
        state=const(PENDING_DONE), last_error=null(), updated_at=bindparam("updated_at")
    ),
)


def _pending_create(**values: Any) -> Update:
    """An UPDATE of the pending create of complaint ``cid`` in ``target`` (bound per row)."""
    return (
        update(PENDING_OP)
        .where(
            PENDING_OP.c.kind == const(CREATE),
            PENDING_OP.c.target_system == bindparam("target"),
            PENDING_OP.c.complaint_id == bindparam("cid"),
        )
        .values(**values)
    )


def _fail_create(
    session: Session, route: str, ref: str, target_system: str, error: str, now: datetime
) -> None:
    """Remember why a create failed; the operation stays started, so it is resumed."""
    cid = require_ids(session, [ref])[ref]
    message = storable(scrub_text(error), _ERROR_LIMIT)
    session.execute(_update_create(cid, target_system).values(last_error=message, updated_at=now))
    attempt = _attempts(session, [(cid, target_system)]).get((cid, target_system), 0)
    key = f"create_failed:{target_system}:{attempt}"
    detail = {"attempt": attempt, "error": message}
    add_events(
        session,
        [event_row(cid, key, now, route, "complaint.create_failed", target_system, detail)],
    )


def _stamp_sent(session: Session, refs: Sequence[str], target_system: str, now: datetime) -> None:
    """``sent_at`` of the pending creates of ``refs``: one UPDATE per chunk, not one each."""
    if refs:
        _stamp_sent_ids(session, list(require_ids(session, refs).values()), target_system, now)


def _stamp_sent_ids(
    session: Session, cids: Sequence[int], target_system: str, now: datetime
) -> None:
    if cids:
        at = session_time(session, now)
        _SENT.run(session, [(at, target_system, cid) for cid in cids])


_SENT = Prepared(
    ("sent_at", "target", "cid"),
    lambda _dialect: _pending_create(sent_at=bindparam("sent_at")),
)


def _update_create(cid: int, target_system: str) -> Update:
    """An UPDATE of the pending create of complaint ``cid`` in ``target_system``."""
    return update(PENDING_OP).where(
        PENDING_OP.c.kind == CREATE,
        PENDING_OP.c.target_system == target_system,
        PENDING_OP.c.complaint_id == cid,
    )


_COMPLAINTS = Prepared(
    ("ref", "origin_system", "origin_id", "created_at", "status"),
    lambda dialect: _complaints(insert(dialect, COMPLAINT)),
)


def _complaints(stmt: Any) -> Any:
    # An existing complaint keeps its row; a status given (not None, not blank) is
    # stored, as ``set_statuses`` would, in the same statement.
    given = stmt.excluded.status.is_not(None) & (stmt.excluded.status != literal_column("''"))
    return stmt.on_conflict_do_update(
        index_elements=["ref"], set_={"status": stmt.excluded.status}, where=given
    )


def _upsert_complaints(session: Session, intents: Sequence[CreateIntent], at: object) -> None:
    rows = [(i.ref, i.origin_system, i.origin_id, at, i.status) for i in intents]
    _COMPLAINTS.run(session, rows)


def _check_source_links(
    session: Session, intents: Sequence[CreateIntent], ids: Mapping[str, int]
) -> None:
    """Refuse to move a source record that is already another complaint's."""
    by_system: dict[str, list[CreateIntent]] = {}
    for intent in intents:
        by_system.setdefault(intent.origin_system, []).append(intent)
    for system, group in by_system.items():
        known = links_by_remote_id(session, system, [i.origin_id for i in group])
        for intent in group:
            owner = known.get(intent.origin_id)
            if owner is not None and owner[1] != ids[intent.ref]:
                raise LedgerConflict(
                    f"{system} record {intent.origin_id!r} is already linked to another "
                    f"complaint than {intent.ref!r}; refusing to link it twice"
                )


_SOURCE_LINK_COLUMNS = (
    *_LINK_HEAD,
    *("seen_at", "updated_at", "raw_status_code", "raw_status_label", "ticket"),
)
_SOURCE_LINKS = _link_upsert(_SOURCE_LINK_COLUMNS, ("system", "remote_id"), copy_from=3)


def _copying(stmt: Any, keys: Sequence[str], copy: Sequence[str]) -> Any:
    """``stmt`` upserting on ``keys``, conflicting rows taking the new ``copy`` columns."""
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: stmt.excluded[name] for name in copy}
    )


def _upsert_source_links(
    session: Session, intents: Sequence[CreateIntent], ids: Mapping[str, int], at: object
) -> None:
    rows = [
        (
            ids[i.ref],
            i.origin_system,
            i.origin_id,
            i.source_hash,
            at,
            at,
            i.raw_status_code,
            i.raw_status_label,
            normal_ticket(i.ticket),
        )
        for i in {(i.origin_system, i.origin_id): i for i in intents}.values()
    ]
    _SOURCE_LINKS.run(session, rows)


_STARTED_COLUMNS = (
    "kind",
    "route",
    "complaint_id",
    "target_system",
    "ref",
    "state",
    "attempts",
    "created_at",
    "updated_at",
)
_STARTED = Prepared(_STARTED_COLUMNS, lambda dialect: _started(insert(dialect, PENDING_OP)))


def _started(stmt: Any) -> Any:
    # A create already done stays done: re-opening it could create a second record.
    copied = {name: stmt.excluded[name] for name in ("route", "state", "updated_at")}
    return stmt.on_conflict_do_update(
        index_elements=["kind", "target_system", "complaint_id"],
        set_=copied | {"attempts": PENDING_OP.c.attempts + literal_column("1")},
        where=PENDING_OP.c.state != const(PENDING_DONE),
    )


def _upsert_started_ops(
    session: Session,
    route: str,
    intents: Sequence[CreateIntent],
    ids: Mapping[str, int],
    at: object,
) -> None:
    rows = [
        (CREATE, route, ids[i.ref], i.target_system, i.ref, PENDING_STARTED, 1, at, at)
        for i in intents
    ]
    _STARTED.run(session, rows)


def _attempts(session: Session, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """(complaint id, target) → attempts, for the pending creates not yet done."""
    found: dict[tuple[int, str], int] = {}
    for part in chunks(sorted({cid for cid, _ in pairs})):
        rows = _ATTEMPTS.rows(session, (), part)
        found.update({(cid, target): n for cid, target, n in rows})
    return {pair: found.get(pair, 0) for pair in pairs}


_ATTEMPTS = PreparedIn(
    (),
    lambda _dialect, cids: select(
        PENDING_OP.c.complaint_id, PENDING_OP.c.target_system, PENDING_OP.c.attempts
    ).where(
        PENDING_OP.c.kind == const(CREATE),
        PENDING_OP.c.state != const(PENDING_DONE),
        PENDING_OP.c.complaint_id.in_(cids),
    ),
)


def _intent_events(
    route: str,
    intents: Sequence[CreateIntent],
    ids: Mapping[str, int],
    attempts: Mapping[tuple[int, str], int],
    now: datetime,
) -> Iterable[dict[str, Any]]:
    for intent in intents:
        cid, target = ids[intent.ref], intent.target_system
        if attempt := attempts[(cid, target)]:
            key = f"intent:{target}:{attempt}"
            detail = {"attempt": attempt, "personal": list(intent.personal)}
            if intent.anonymous:
                detail["anonymous"] = True
            if intent.secret:
                detail["rahasia"] = True
            yield event_row(cid, key, now, route, "complaint.intent", target, detail)


def _created_event(cid: int, route: str, result: CreateResult, now: datetime) -> dict[str, Any]:
    kind = "complaint.adopted" if result.adopted else "complaint.created"
    # One key for both kinds: a create that is later adopted again is still one step.
    key = f"created:{result.target_system}"
    detail: dict[str, Any] = {"remote_id": result.remote_id}
    if result.identity_sent:
        # Names only: if the complaint is later known anonymous, a person must know what went.
        detail["identity_sent"] = list(result.identity_sent)
    return event_row(cid, key, now, route, kind, result.target_system, detail)
