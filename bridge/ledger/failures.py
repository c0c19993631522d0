"""The errors the ledger adds to ``bridge.errors``, placed by what to do about them."""

from __future__ import annotations

from bridge.errors import ConfigError, RetryableError, RouteError


class LedgerConflict(RouteError):
    """A write would break the ledger's identity rules (one complaint per remote record).

    This is a bug or a hand-edited database, never a transient failure: the route
    stops so that nothing is created twice.
    """


class LedgerUnavailable(RetryableError):
    """The ledger database could not be reached or stayed busy. Nothing was half-written."""


class LeaseLost(RouteError):
    """Another replica took this route over: its lease's run number moved on.

    The cycle stops without writing anything more for the route; the replica that
    holds the lease now carries on from what the ledger holds (TRAPS.md, Stalling).
    """


class LedgerMissing(ConfigError):
    """A command that must not create a ledger found none where the configuration points."""


class LedgerOutdated(ConfigError):
    """A command that must not migrate a ledger found its schema behind this version's."""
