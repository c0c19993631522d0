"""Who a replica is: what proves that a lease's holder is a process of this machine, now gone.

A lease names its holder twice: a display name (``--replica``, by default
``<hostname>:<pid>``) for people, and a ``ReplicaIdentity`` for the machine. A
hostname proves nothing (cloned VMs and containers with a fixed ``hostname:`` share
one, and a pid means nothing in another PID namespace), so a holder counts as dead
before its lease expires only when its identity proves it:

- the same machine id (``/etc/machine-id``) and kernel boot id: the same running
  kernel of the same installation;
- the same PID namespace (the inode of ``/proc/self/ns/pid``): its pid means here
  what it meant there;
- and its pid is gone, or now belongs to a process that started at another time
  (a pid reused since).

Anything unreadable makes the identity unknown (None), and an unknown identity
never proves anything: such leases are only taken over once they expire.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
MACHINE_ID_FILES = (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id"))
BOOT_ID_FILE = PROC / "sys/kernel/random/boot_id"
_FORMAT = "v1"  # the first field of the stored text, so a later format can be told apart


@dataclass(frozen=True, slots=True)
class ReplicaIdentity:
    """One process of one machine: enough to prove, later, that it is gone."""

    machine_id: str
    boot_id: str
    pid_namespace: int
    pid: int
    start_time: int
    """Field 22 of ``/proc/<pid>/stat``: clock ticks from boot to the process's start."""

    @classmethod
    def of_this_process(cls) -> ReplicaIdentity | None:
        """This process's identity, or None where /proc or the machine id cannot be read."""
        pid = os.getpid()
        try:
            namespace = (PROC / "self/ns/pid").stat().st_ino
            boot_id = BOOT_ID_FILE.read_text(encoding="ascii").strip()
        except OSError:
            return None
        machine_id, start_time = _machine_id(), process_start_time(pid)
        if not (machine_id and boot_id) or start_time is None:
            return None
        return cls(machine_id, boot_id, namespace, pid, start_time)

    def to_text(self) -> str:
        """The form stored in the lease row (``route_lease.holder_identity``)."""
        fields = (self.machine_id, self.boot_id, self.pid_namespace, self.pid, self.start_time)
        return " ".join([_FORMAT, *map(str, fields)])

    @classmethod
    def from_text(cls, text: str | None) -> ReplicaIdentity | None:
        """The identity ``to_text`` wrote; None for anything else (unknown: proves nothing)."""
        parts = (text or "").split(" ")
        if len(parts) != 6 or parts[0] != _FORMAT or not all(p.isdigit() for p in parts[3:]):
            return None
        return cls(parts[1], parts[2], int(parts[3]), int(parts[4]), int(parts[5]))

    def proves_gone(self, holder: ReplicaIdentity) -> bool:
        """True when ``holder`` is a process of this machine and PID namespace that is gone."""
        here = (self.machine_id, self.boot_id, self.pid_namespace)
        if here != (holder.machine_id, holder.boot_id, holder.pid_namespace):
            return False  # another machine, boot or namespace: nothing here can tell
        if holder == self:
            return False  # this very process
        start_time = process_start_time(holder.pid)
        if start_time is None:
            # /proc may hide other users' processes (hidepid): ask the kernel itself.
            return not _exists(holder.pid)
        # A pid running under another start time was reused: the holder is gone too.
        return start_time != holder.start_time


def process_start_time(pid: int) -> int | None:
    """When process ``pid`` of this PID namespace started (field 22 of its stat), None if gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ")": split after it.
    fields = stat.rpartition(")")[2].split()
    start = fields[19] if len(fields) > 19 else ""  # fields[0] is field 3
    return int(start) if start.isdigit() else None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def _machine_id() -> str | None:
    for path in MACHINE_ID_FILES:
        try:
            found = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if found:
            return found
    return None
