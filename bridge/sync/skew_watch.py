"""The newest change a cycle read from its source, held against our clock (``bridge.skew``).

A source whose rows sit hours in the future writes its times in another zone than its
mapping reads them in: the cursor stops at our clock, so such rows are read again every
cycle and their times are wrong by hours. Said once per cycle (``source.clock.ahead``),
in ``bridge doctor``'s words, and kept as the source's notice for ``bridge status``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from bridge.connector import NativeRecord
from bridge.errors import RecordError
from bridge.skew import future_skew
from bridge.sync.facts import Observation
from bridge.sync.route import Route

log = structlog.get_logger("bridge.engine")


def updated_at(route: Route, observation: Observation) -> datetime | None:
    """The record's update time: as observe read it when it mapped (or remembered) the
    record, else read now; None when it has none or it cannot be read."""
    if observation.stamped:
        return observation.updated_at
    return read_updated_at(route, observation.native)


def read_updated_at(route: Route, native: Mapping[str, Any]) -> datetime | None:
    try:
        return route.source_mapping.native_updated_at(dict(native))
    except RecordError:
        return None  # the record's own problem, set aside with it


class NewestSeen:
    """The newest ``updated_at`` among the records a cycle listed from ``route``'s source."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.newest: datetime | None = None

    def page(self, page: Sequence[NativeRecord]) -> None:
        """Records listed and not observed on this page (handled earlier in the cycle)."""
        self._note(read_updated_at(self.route, native) for native in page)

    def observed(self, observations: Sequence[Observation]) -> None:
        """A listed page as observed: the update times its mapping read already."""
        self._note(updated_at(self.route, o) for o in observations)

    def _note(self, stamps: Iterable[datetime | None]) -> None:
        newest = max((s for s in stamps if s is not None), default=None)
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest

    def notice(self) -> str | None:
        """The source's clock problem, logged once, or None when its rows are on time."""
        if self.newest is None:
            return None
        zone = self.route.source_mapping.timezone.key
        skew = future_skew(self.newest, self.route.clock(), zone)
        if skew is None:
            return None
        source = self.route.source.name
        log.warning(
            "source.clock.ahead",
            route=self.route.name,
            source=source,
            problem=skew.problem,
            fix=skew.fix,
        )
        return f"{source}: {skew.problem}; {skew.fix}"
