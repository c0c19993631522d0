"""The status page for the complaint desk: server-rendered HTML, English and Bahasa Indonesia.

No JavaScript and no build step: ``render_status_page`` turns a snapshot into one page,
every value escaped. It is read-only: it tells what to do, it does nothing itself.
"""

from __future__ import annotations

from bridge.web.page import render_status_page

__all__ = ["render_status_page"]
