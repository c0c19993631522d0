"""Who holds a lease: a live lease is taken over early only from a provably gone local process.

The identities are built by hand (``ReplicaIdentity`` is plain data), so two "hosts"
sharing a hostname are two identities in this one test process; whether a pid is
gone is asked of this machine's real /proc, with real child processes.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, update

from bridge.ledger import LeaseLost, Ledger
from bridge.ledger.db import normalise_url
from bridge.ledger.tables import ROUTE_LEASE
from bridge.replica import ReplicaIdentity, process_start_time
from tests.ledger.ledger_factories import ROUTE, TTL, Clock, claimed

# The display name both holders share: a fixed container hostname, and pid 7 in each
# container's PID namespace.
SHARED_NAME = "bridge:7"


@pytest.fixture
def me() -> ReplicaIdentity:
    """This test process's identity (the claiming replica)."""
    identity = ReplicaIdentity.of_this_process()
    if identity is None:
        pytest.skip("this machine's /proc or machine id cannot be read")
    return identity


@pytest.fixture
def gone_pid() -> int:
    """The pid of a process of this machine that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a process of this machine that runs until the test ends."""
    yield from _running([sys.executable])


def _running(command: list[str]) -> Iterator[int]:
    """Run ``command`` as a Python that waits on its stdin; yield its pid, then end it."""
    waits = [*command, "-c", "import sys; sys.stdin.read()"]
    with subprocess.Popen(waits, stdin=subprocess.PIPE) as child:  # closes the pipe at the end
        try:
            yield child.pid
        finally:
            child.kill()


def holder(me: ReplicaIdentity, pid: int, **other: str | int) -> ReplicaIdentity:
    """A holder like ``me`` but with process ``pid``'s start time (or ``other`` fields)."""
    start = process_start_time(pid) or 1  # a gone process: any start time will do
    return dataclasses.replace(me, pid=pid, start_time=start, **other)


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"machine_id": "0" * 32},  # a cloned VM with the same hostname
        {"boot_id": "00000000-0000-0000-0000-000000000000"},  # this host, an earlier boot
        {"pid_namespace": 1},  # a container on this host, with its own PID namespace
    ],
    ids=["machine", "boot", "pid-namespace"],
)
def test_a_holder_of_another_machine_boot_or_pid_namespace_is_never_taken_over_early(
    replicas: tuple[Ledger, Ledger],
    clock: Clock,
    me: ReplicaIdentity,
    gone_pid: int,
    elsewhere: dict[str, str | int],
) -> None:
    """Same display name, its pid gone *here*: still waited for until its lease expires."""
    a, b = replicas
    first = claimed(a, SHARED_NAME, identity=holder(me, gone_pid, **elsewhere))

    assert b.leases.claim(ROUTE, SHARED_NAME, TTL, identity=me) is None
    clock.advance(TTL - timedelta(seconds=1))
    assert b.leases.claim(ROUTE, SHARED_NAME, TTL, identity=me) is None

    clock.advance(timedelta(seconds=1))
    assert claimed(b, SHARED_NAME, identity=me).run_number == first.run_number + 1


def test_two_live_holders_sharing_a_name_do_not_share_the_lease(
    replicas: tuple[Ledger, Ledger], me: ReplicaIdentity, live_pid: int
) -> None:
    """Same display name and machine, another live process: not "its own lease" to renew."""
    a, b = replicas
    claimed(a, SHARED_NAME, identity=holder(me, live_pid))

    assert b.leases.claim(ROUTE, SHARED_NAME, TTL, identity=me) is None


def test_a_holder_of_this_machine_whose_process_is_gone_is_taken_over_at_once(
    replicas: tuple[Ledger, Ledger], me: ReplicaIdentity, gone_pid: int
) -> None:
    """A bridge SIGKILLed on this machine need not be waited for; its late writes are fenced."""
    a, b = replicas
    old = claimed(a, "replica-1", identity=holder(me, gone_pid))

    taken = claimed(b, "replica-2", identity=me)

    assert taken.run_number == old.run_number + 1
    # Its creates may still be on their way until its lease would have ended.
    assert taken.predecessor_until == old.expires_at
    assert b.leases.resend_wait(ROUTE) == old.expires_at
    with pytest.raises(LeaseLost):
        a.leases.renew(old, TTL)


def test_a_reused_pid_counts_as_gone(
    replicas: tuple[Ledger, Ledger], me: ReplicaIdentity, live_pid: int
) -> None:
    """The holder's pid now runs a process that started at another time: the holder is gone."""
    a, b = replicas
    reused = holder(me, live_pid)
    claimed(a, "replica-1", identity=dataclasses.replace(reused, start_time=reused.start_time + 1))

    assert b.leases.claim(ROUTE, "replica-2", TTL, identity=me) is not None


def test_a_live_holder_of_this_machine_is_waited_for(
    replicas: tuple[Ledger, Ledger], me: ReplicaIdentity, live_pid: int
) -> None:
    """Its pid runs under the start time it claimed with: alive, so its lease is kept."""
    a, b = replicas
    claimed(a, "replica-1", identity=holder(me, live_pid))

    assert b.leases.claim(ROUTE, "replica-2", TTL, identity=me) is None


def test_another_name_in_this_very_process_is_waited_for(
    replicas: tuple[Ledger, Ledger], me: ReplicaIdentity
) -> None:
    """Two holders in one process (a daemon's and a tool's) never take each other's lease."""
    a, b = replicas
    claimed(a, "replica-1", identity=me)

    assert b.leases.claim(ROUTE, "replica-2", TTL, identity=me) is None


def test_an_old_format_holder_waits_for_expiry(
    replicas: tuple[Ledger, Ledger], clock: Clock, me: ReplicaIdentity, gone_pid: int
) -> None:
    """A `<hostname>:<pid>` holder of an older version has no identity: it is never gone early."""
    a, b = replicas
    hostname_pid = f"this-host:{gone_pid}"
    claimed(a, hostname_pid)  # written without an identity, as older versions did

    assert b.leases.claim(ROUTE, "replica-2", TTL, identity=me) is None
    assert b.leases.claim(ROUTE, hostname_pid, TTL, identity=me) is None  # even by that name

    clock.advance(TTL)
    assert claimed(b, "replica-2", identity=me).run_number == 2
    assert b.leases.resend_wait(ROUTE) is None  # taken over on expiry: nothing to wait for


def test_an_identity_left_from_an_earlier_run_proves_nothing(
    replicas: tuple[Ledger, Ledger],
    ledger_url: str,
    clock: Clock,
    me: ReplicaIdentity,
    gone_pid: int,
) -> None:
    """A takeover that wrote no identity (an older replica) does not inherit the last holder's."""
    a, b = replicas
    claimed(a, "replica-1", identity=holder(me, gone_pid))
    clock.advance(TTL)
    # An older version, still running, takes the expired lease over: it knows nothing of
    # holder_identity, so the gone holder's stays in the row.
    older = update(ROUTE_LEASE).values(holder="old-version", run_number=2, expires_at=clock() + TTL)
    engine = create_engine(normalise_url(ledger_url))
    with engine.begin() as conn:
        conn.execute(older)
    engine.dispose()

    assert b.leases.claim(ROUTE, "replica-2", TTL, identity=me) is None


def test_an_identity_is_read_back_as_written_and_garbage_is_unknown(me: ReplicaIdentity) -> None:
    """The stored text round-trips; anything else is an unknown identity, never an error."""
    assert ReplicaIdentity.from_text(me.to_text()) == me
    for garbage in (None, "", "host:123", "v2 a b 1 2 3", "v1 a b x 2 3", me.to_text() + " 9"):
        assert ReplicaIdentity.from_text(garbage) is None


def test_a_process_start_time_is_read_despite_a_command_name_with_parentheses(
    tmp_path: Path, me: ReplicaIdentity
) -> None:
    """Field 22 of /proc/<pid>/stat is found after the command name, whatever that holds."""
    odd = tmp_path / "a) 1 2 (b"  # the command name is the executable's file name
    odd.symlink_to(sys.executable)
    for pid in _running([str(odd)]):
        started = process_start_time(pid)
        assert started is not None and started >= me.start_time  # started after this test
    assert process_start_time(2**22 + 1) is None  # above any pid_max: never a process
