"""Pieces both simulators share: time zones, a clock, flag parsing and atomic JSON files."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

WIB = timezone(timedelta(hours=7), "WIB")
WITA = timezone(timedelta(hours=8), "WITA")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock, truncated to whole seconds as both remote systems show time that way."""
    return datetime.now(UTC).replace(microsecond=0)


class ManualClock:
    """A clock that moves only when told to, so tests of time filters need no waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def is_truthy(value: Any) -> bool:
    """PHP-style truthiness for flags that arrive as bools, ints or form strings."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def load_json_file(path: Path) -> Any | None:
    """Load a state file, or None when there is none yet."""
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def save_json_file(path: Path, data: Any) -> None:
    """Write through a temp file and os.replace, so a crash never leaves a half-written state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
