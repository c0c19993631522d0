"""Native field paths such as ``results.data.title`` or ``files.0.url``, compiled once at load.

A digit-only segment indexes a list (``files.0.url``); on a dict it is an ordinary key.
Write paths only ever create dicts, so they may not index lists.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import methodcaller
from typing import Any


class NativePath:
    """One dotted native path, split at load time so that records are never re-parsed."""

    __slots__ = ("_steps", "dict_reader", "keys", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.keys = tuple(text.split("."))
        self._steps = tuple(
            (key, int(key) if key.isascii() and key.isdigit() else None) for key in self.keys
        )
        # ``get`` for a record known to be a dict: one step is the dict's own ``get``.
        self.dict_reader: Callable[[dict[str, Any]], Any] = (
            methodcaller("get", self.keys[0]) if len(self.keys) == 1 else self.get
        )

    def __repr__(self) -> str:
        return f"NativePath({self.text!r})"

    @property
    def indexes_lists(self) -> bool:
        return any(index is not None for _, index in self._steps)

    def get(self, record: Any) -> Any:
        """The value at this path, or None when any step is absent."""
        node = record
        for key, index in self._steps:
            if isinstance(node, dict):
                node = node.get(key)
            elif index is not None and isinstance(node, list) and index < len(node):
                node = node[index]
            else:
                return None
            if node is None:
                return None
        return node

    def set(self, record: dict[str, Any], value: Any) -> None:
        """Write ``value`` at this path, creating the intermediate dicts."""
        node = record
        for key in self.keys[:-1]:
            node = node.setdefault(key, {})
        node[self.keys[-1]] = value


def path_problem(text: object) -> str | None:
    """Why ``text`` is not a usable native path, or None when it is."""
    if not isinstance(text, str) or not text:
        return "must be a non-empty native path string such as 'results.data.title'"
    if any(not part or part != part.strip() for part in text.split(".")):
        return f"native path {text!r} has an empty or padded segment; write it like 'a.b.c'"
    return None


def overlapping(a: NativePath, b: NativePath) -> bool:
    """Whether writing both paths would clash (same path, or one inside the other)."""
    shorter = min(len(a.keys), len(b.keys))
    return a.keys[:shorter] == b.keys[:shorter]
