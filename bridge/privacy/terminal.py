"""Terminal escape sequences in data, made harmless before the CLI prints them.

A complaint's text or a door's error message may hold ``ESC [2J`` (clear the screen),
an OSC 8 hyperlink, or a sequence that rewrites the window title or the lines above:
printed as is, a record could hide itself or fake the bridge's own output. Every
control character but newline and tab is shown as its ``\\xNN`` escape instead.
"""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, and the C1 controls (U+0080-U+009F, e.g. CSI U+009B).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise(text: str) -> str:
    """``text`` with every terminal control character shown as an escape, not acted on."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
