"""Statements the ledger runs per page of the engine: ``bench/engine_throughput.py``, counted.

    .venv/bin/python bench/ledger_statements.py [--count 1000] [--page-size 100] [--show]

Runs the engine bench (its create cycle, then its unchanged cycle) with a
``before_cursor_execute`` listener on the ledger's engine, and prints how many
statements each cycle ran (an executemany counts once, as do BEGIN and the driver's
own statements), per page. ``--show`` also lists each distinct statement's head and
how often it ran.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))  # engine_throughput, beside this
import engine_throughput

from bridge.sync import Route, run_cycle
from bridge.sync.report import CycleReport


class Counting:
    """Statements seen by a ``before_cursor_execute`` listener, by their first words."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.statements[" ".join(statement.split())[:110]] += 1


def counted(route: Route) -> CycleReport:
    """``run_cycle`` with its statements counted and printed."""
    counting = Counting()
    engine = route.ledger.db.engine
    event.listen(engine, "before_cursor_execute", counting)
    try:
        result = run_cycle(route)
    finally:
        event.remove(engine, "before_cursor_execute", counting)
    total = sum(counting.statements.values())
    pages = -(-_ARGS["count"] // _ARGS["page_size"])
    name = "create" if _RUNS.count("create") == 0 else "unchanged"
    _RUNS.append(name)
    print(f"{name} cycle: {total} statements, {total / pages:.1f} per page")
    if _SHOW:
        for text, n in counting.statements.most_common():
            print(f"  {n:6d}  {text}")
    return result


_ARGS = {"count": 1000, "page_size": 100}
_RUNS: list[str] = []
_SHOW = "--show" in sys.argv


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--show"]
    for name in _ARGS:
        flag = "--" + name.replace("_", "-")
        if flag in args:
            _ARGS[name] = int(args[args.index(flag) + 1])
    sys.argv = (
        [sys.argv[0], *args] if "--count" in args else [sys.argv[0], "--count", "1000", *args]
    )
    engine_throughput.run_cycle = counted
    engine_throughput.main()


if __name__ == "__main__":
    main()
