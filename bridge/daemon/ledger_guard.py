"""Noticing a ledger that was lost, replaced or restored from an old copy.

The ledger is the bridge's only memory of what it already sent. A new, empty one
(a deleted file, another working directory, a container without its volume) or an
old one (restored from a backup) would make the bridge send complaints a second time.
So the bridge keeps, *outside* the ledger, a small state file (by default beside the
configuration file, ``[ledger] state_file``) saying which ledger it last wrote to:
its ``ledger_id`` and the ``generation`` it had reached (``bridge.ledger.meta``).

Before ``run``, ``sync`` and ``backfill`` act, ``open_for_cycles`` compares:

- no state file yet (first run, or an upgrade): one is written, nothing is refused;
- another ``ledger_id``, or no ledger at all: the ledger was replaced → refused;
- a lower generation than the file's: restored from an older copy → refused.

Several replicas (on several hosts) sharing one PostgreSQL ledger never refuse each
other: the ledger's generation only grows, and each host's file only holds what that
host last saw. What this cannot notice: a host that loses both its ledger and its
state file looks like a first run; there, the sync's adoption pass (looking every
unknown record up by the bridge's reference before creating it) prevents doubles.

``bridge ledger accept`` is the way out of a refusal: it clears the routes' adoption
marks (``ledger.meta.require_adoption``) and rewrites the state file.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from bridge.config import DEFAULT_STATE_FILE, BridgeConfig
from bridge.daemon.metrics import write_atomically
from bridge.errors import ConfigError
from bridge.ledger import Ledger, LedgerIdentity, LedgerMissing, LedgerOutdated
from bridge.ledger.db import mask, normalise_url, sqlite_file

SOURCE = "ledger"
_log = structlog.get_logger("bridge.ledger_guard")


class LedgerReplaced(ConfigError):
    """The ledger is not the one the bridge last wrote to: refused until accepted."""


@dataclass(frozen=True)
class SeenLedger:
    """What the state file says: the ledger last written to, and when."""

    ledger_id: str
    generation: int
    url: str  # as displayed: any password masked
    updated_at: str


def state_path(settings: BridgeConfig) -> Path:
    return Path(settings.ledger.state_file or DEFAULT_STATE_FILE)


def read_state(path: Path) -> SeenLedger | None:
    """The state file's content; None when there is none yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SeenLedger(
            str(data["ledger_id"]),
            int(data["generation"]),
            str(data["url"]),
            str(data["updated_at"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            [
                f"the ledger state file {path} cannot be read ({type(exc).__name__}); "
                "delete it only if you are sure `[ledger] url` points at the ledger the "
                "bridge has always used, or set `[ledger] state_file` to another path"
            ],
            source=SOURCE,
        ) from None


def write_state(path: Path, seen: LedgerIdentity, url: str) -> None:
    """Replace the state file atomically (temp file + rename), readable by its owner only."""
    record = SeenLedger(seen.ledger_id, seen.generation, url, datetime.now(UTC).isoformat())
    write_atomically(path, json.dumps(asdict(record), indent=2), mode=0o600)


class StateRecorder:
    """The ledger's cycle watcher: after each cycle start, the state file follows.

    Routes start cycles from several threads: the lock and the highest generation
    written keep a slower thread from writing an older generation over a newer one.
    """

    def __init__(self, path: Path, url: str, ledger_file: Path | None = None) -> None:
        self.path = path
        self.url = url
        self._lock = threading.Lock()
        self._written = -1
        # A SQLite file deleted or swapped under a running bridge: its connection goes on
        # writing to the old, unlinked file, so nothing fails on its own. Checked here.
        self._file = ledger_file
        self._inode = _inode(ledger_file)

    def __call__(self, seen: LedgerIdentity) -> None:
        with self._lock:
            if self._file is not None and _inode(self._file) != self._inode:
                raise LedgerReplaced(
                    [
                        f"the ledger file {self._file} was deleted or replaced while this "
                        "bridge ran, so nothing more is done: stop the bridge, put the ledger "
                        "back (or keep the new one), then run `bridge ledger accept`"
                    ],
                    source=SOURCE,
                )
            if seen.generation <= self._written:
                return
            try:
                write_state(self.path, seen, self.url)
            except OSError as exc:  # the cycle goes on; the next start tries again
                _log.warning(
                    "ledger.state_file.write_failed", path=str(self.path), error=exc.strerror
                )
                return
            self._written = seen.generation


def open_for_cycles(settings: BridgeConfig) -> Ledger:
    """The ledger for commands that run cycles, refused if it is not the one last used.

    Creates or migrates the ledger only when nothing says it was lost; afterwards every
    cycle start rewrites the state file.
    """
    path = state_path(settings)
    seen = read_state(path)
    url = settings.ledger.url
    try:
        ledger = Ledger.open(url, create=False)
    except LedgerMissing:
        if seen is not None:  # refused before an empty ledger is made in its place
            raise _refusal(settings, seen, None) from None
        ledger = Ledger.open(url)
    except LedgerOutdated:
        ledger = Ledger.open(url)
    try:
        current = ledger.identity()
        if seen is not None and (
            seen.ledger_id != current.ledger_id or current.generation < seen.generation
        ):
            raise _refusal(settings, seen, current)
        if seen is None:
            _first_state(path, current, ledger.url_for_display)
            _log.info("ledger.state_file.created", path=str(path), ledger_id=current.ledger_id)
    except BaseException:
        ledger.close()
        raise
    ledger_file = sqlite_file(normalise_url(url))
    ledger.cycles.watch(StateRecorder(path, ledger.url_for_display, ledger_file))
    return ledger


def _inode(path: Path | None) -> int | None:
    try:
        return path.stat().st_ino if path is not None else None
    except OSError:
        return None


def _first_state(path: Path, current: LedgerIdentity, url: str) -> None:
    try:
        write_state(path, current, url)
    except OSError as exc:
        raise ConfigError(
            [
                f"cannot write the ledger state file {path} ({exc.strerror}): make its folder "
                "writable by the bridge, or set `[ledger] state_file` to a writable path "
                "(keep it on storage that lives as long as the host, not the container)"
            ],
            source=SOURCE,
        ) from None


def accept(ledger: Ledger, settings: BridgeConfig) -> int:
    """Take ``ledger`` as the one to use from now on; how many routes must adopt again."""
    cleared = ledger.meta.require_adoption()
    write_state(state_path(settings), ledger.identity(), ledger.url_for_display)
    _log.warning("ledger.accepted", ledger_id=ledger.identity().ledger_id, routes=cleared)
    return cleared


def accept_command(settings: BridgeConfig) -> str:
    where = f" --config {settings.path}" if settings.path else ""
    return f"bridge ledger accept{where}"


def _refusal(
    settings: BridgeConfig, seen: SeenLedger, current: LedgerIdentity | None
) -> LedgerReplaced:
    last = (
        f"on {seen.updated_at} this bridge last wrote to ledger {seen.ledger_id} "
        f"(generation {seen.generation}, at {seen.url}; noted in {state_path(settings)})"
    )
    if current is None:
        where = mask(settings.ledger.url)
        what = f"there is no ledger at {where}, but {last}: it was deleted or moved"
    elif current.ledger_id != seen.ledger_id:
        what = (
            f"the ledger is another one ({current.ledger_id}) than the one {last}: "
            "it was deleted, replaced or moved, and a new, empty one took its place"
        )
    else:
        what = (
            f"the ledger is at generation {current.generation}, behind the one {last}: "
            "it was restored from an older copy, which misses what was sent since"
        )
    # One problem, in three short paragraphs: what happened, the risk, what to do.
    return LedgerReplaced(
        [
            f"{what}.\n    At risk: complaints the bridge no longer remembers would be sent "
            "to LAPOR! (and the other systems) a second time.\n    To fix: if the right ledger "
            "still exists, put it back or point `[ledger] url` at it. If it is lost for good, "
            f"run `{accept_command(settings)}`: every route's next cycle then looks each "
            "record up by the bridge's reference before creating anything."
        ],
        source=SOURCE,
    )
