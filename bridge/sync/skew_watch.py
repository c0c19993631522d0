"""The newest change a cycle read from its source, held against our clock (``bridge.skew``).

A source whose rows sit hours in the future writes its times in another zone than its
mapping reads them in: the cursor stops at our clock, so such rows are read again every
cycle and their times are wrong by hours. Said once per cycle (``source.clock.ahead``),
in ``bridge doctor``'s words, and kept as the source's notice for ``bridge status``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from bridge.connector import NativeRecord
from bridge.errors import RecordError
from bridge.skew import future_skew
from bridge.sync.route import Route

log = structlog.get_logger("bridge.engine")


class NewestSeen:
    """The newest ``updated_at`` among the records a cycle listed from ``route``'s source."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.newest: datetime | None = None

    def page(self, page: Sequence[NativeRecord]) -> None:
        for native in page:
            try:
                stamp = self.route.source_mapping.native_updated_at(dict(native))
            except RecordError:
                continue  # the record's own problem, set aside with it
            if stamp is not None and (self.newest is None or stamp > self.newest):
                self.newest = stamp

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
