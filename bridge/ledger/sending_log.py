"""Which of the creates noted as sending really started: a file beside the ``sent_at`` note.

``pending_op.sent_at`` (``bridge.ledger.leases``) tells a successor which creates of a gone
holder may still be on their way to the target. Stamping it alone right before each create
cost one fsynced transaction per complaint. Instead, a page's first attempts are noted
together with their intents (one commit), and this log says which of them started: a line
``noted <stamp> <ref>…`` after that commit, then ``start <ref>`` right before each create
leaves, whoever sends it. A successor resends at once a create noted at ``<stamp>`` (its
``sent_at``) and never started since.

Why a file and no fsync is enough: ``sent_at`` is only consulted after taking a route over
early, from a holder proven gone on this machine *in this boot* (``bridge.replica``), and
what a process wrote before it died is in the kernel's page cache for every process of that
boot. Every doubt goes the safe way: no file, an unreadable line, another stamp, or a
``start`` anywhere after the ``noted`` line all mean "may have been sent", so the successor
waits as it always did. A ``start`` that cannot be written stops the create
(``LedgerUnavailable``): it is never sent unlogged.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy.engine import URL

from bridge.ledger.failures import LedgerUnavailable

log = structlog.get_logger("bridge.ledger")

NOTED, START = "noted", "start"


class SendingLog:
    """One file per route of one ledger, in an owner-only folder (``for_ledger``)."""

    def __init__(self, ledger_key: str, folder: Path | None = None) -> None:
        self._key = ledger_key
        uid = getattr(os, "getuid", lambda: 0)()
        self._folder = folder or Path(tempfile.gettempdir()) / f"lapor-bridge-{uid}"
        self._open: dict[Path, int] = {}  # kept open: a create costs one write
        self._broken = False
        self._logged: dict[str, set[str]] = {}  # route → refs in notes written here
        self._paths: dict[str, Path] = {}

    def path(self, route: str) -> Path:
        path = self._paths.get(route)
        if path is None:  # one digest per route, not one per create
            digest = hashlib.sha256(f"{self._key}\0{route}".encode()).hexdigest()[:24]
            path = self._paths[route] = self._folder / f"sending-{digest}"
        return path

    def noted(self, route: str, refs: Sequence[str], stamp: datetime, *, fresh: bool) -> None:
        """``refs`` were stamped ``sent_at = stamp`` and committed; none started yet.

        ``fresh`` starts the file over (nothing in it is needed any more). A failure only
        costs a successor's wait for these creates, so it is logged, not raised.
        """
        if not refs or self._broken:
            return
        line = " ".join([NOTED, _stamp(stamp), *refs]) + "\n"
        try:
            self._write(route, line, truncate=fresh)
        except OSError as exc:
            self._broken = True  # every later note goes the safe way: sent_at alone
            log.warning("ledger.sending_log.unwritable", error=type(exc).__name__, hint=str(exc))
            return
        logged = self._logged.setdefault(route, set())
        if fresh:
            logged.clear()
        logged.update(refs)

    def starting(self, route: str, ref: str) -> None:
        """Right before the create of ``ref`` leaves: one this log noted must not leave unlogged.

        A create the log never noted (a resend, or a note that could not be written) is
        waited for by a successor anyway; its line is only written if it can be.
        """
        try:
            self._write(route, f"{START} {ref}\n", truncate=False)
        except OSError as exc:
            if ref not in self._logged.get(route, ()):
                return
            raise LedgerUnavailable(
                f"cannot note that a create starts in {self.path(route)} ({exc.strerror}); "
                f"free space there or make {self._folder} writable, then run again"
            ) from None

    def never_started(self, route: str, ref: str, sent_at: datetime) -> bool:
        """True when ``ref`` was noted at ``sent_at`` and no create of it started since."""
        try:
            lines = self.path(route).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return False
        noted_at: int | None = None
        for index, line in enumerate(lines):
            words = line.split(" ")
            if words[0] == NOTED and len(words) > 2 and ref in words[2:]:
                noted_at = index if words[1] == _stamp(sent_at) else None
            elif words[0] == START and ref in words[1:] and noted_at is not None:
                noted_at = None  # started after that note: it may be on its way
        return noted_at is not None

    def close(self) -> None:
        """Remove this process's files: a route released on exit needs no successor's help."""
        for path, fd in self._open.items():
            if _same_file(path, fd):  # another replica may hold the route, and the file, now
                path.unlink(missing_ok=True)
            os.close(fd)
        if self._open:
            with contextlib.suppress(OSError):
                self._folder.rmdir()  # only when empty: another's files stay
        self._open.clear()

    def _write(self, route: str, line: str, *, truncate: bool) -> None:
        path = self.path(route)
        fd = self._open.get(path)
        if fd is not None and truncate and not _same_file(path, fd):
            os.close(self._open.pop(path))  # removed by a replica that let the route go: anew
            fd = None
        if fd is None:
            _private_folder(self._folder)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
            fd = self._open[path] = os.open(path, flags, 0o600)
        if truncate:
            os.ftruncate(fd, 0)  # appends go on from the new end
        data = line.encode()
        # One write of a short line: a reader sees it whole or not at all.
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path}")


def _private_folder(folder: Path) -> None:
    """The folder, owner-only, and refusing one another user created (or a symlink)."""
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if folder.is_symlink() or info.st_uid != getattr(os, "getuid", lambda: info.st_uid)():
        raise PermissionError(f"{folder} is not this user's own folder")


def _same_file(path: Path, fd: int) -> bool:
    try:
        return path.stat().st_ino == os.fstat(fd).st_ino
    except OSError:
        return False


def _stamp(at: datetime) -> str:
    return f"{at.timestamp():.6f}"


def for_ledger(url: URL) -> SendingLog:
    """The log of the ledger at ``url``: beside an SQLite file, else in the temp dir.

    Beside the file, every bridge sharing the ledger shares the log, even under systemd's
    ``PrivateTmp`` (each unit its own /tmp). A PostgreSQL ledger's replicas on one machine
    share the temp dir unless ``PrivateTmp`` parts them; then a successor finds no log
    and waits for the noted creates as it always did.
    """
    database = url.database or ""
    if url.get_backend_name() != "sqlite":
        return SendingLog(url.render_as_string(hide_password=True))
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).resolve()
        return SendingLog(f"sqlite:{path}", path.parent / f"{path.name}.sending")
    # No other process can reach an in-memory database.
    return SendingLog(f"sqlite-memory:{os.getpid()}:{uuid.uuid4()}")
