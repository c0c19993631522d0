"""The errors the ledger adds to ``bridge.errors``, placed by what to do about them."""

from __future__ import annotations

from bridge.errors import RetryableError, RouteError


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
