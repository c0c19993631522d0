"""Files the bridge creates that hold personal data or tell about it: owner-only.

The ledger (and SQLite's ``-wal``/``-shm`` beside it, which take the database file's
mode), its backups and the metrics file are created ``0600``; a stricter umask
(``077`` leaves ``0600``, ``0277`` makes ``0400``) is respected, a looser one is not.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

OWNER_ONLY = 0o600


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    if found := re.search(r"^Umask:\s*([0-7]+)", status, re.MULTILINE):
        return int(found.group(1), 8)
    old = os.umask(0o077)  # elsewhere: set and put back at once
    os.umask(old)
    return old


def private_mode(mode: int = OWNER_ONLY) -> int:
    """``mode`` (at most 0600), narrowed further by the umask."""
    return mode & OWNER_ONLY & ~current_umask()


def create_private(path: Path) -> bool:
    """Create ``path`` empty and owner-only if it does not exist; True if it was created."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, private_mode())
    except FileExistsError:
        return False
    os.close(fd)
    return True
