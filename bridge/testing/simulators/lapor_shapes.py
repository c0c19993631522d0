"""Answers of the LAPOR! simulator in the shapes the production API gives its real clients.

Read from the two public production clients of the v3 API (a Laravel forwarding service
and an admin app of a regional government): they read the upload answer's
``results.docs`` and ``results.images`` (photos are filed apart), send
``date_of_incident`` as an ISO-8601 timestamp, post the forward (#3) as JSON, create at
a path of their own (``complaints/complaint-lmw``), and read ``institution_from_id``
that may be an object ``{"id", "name"}``. With ``real_shapes=True`` the simulator
answers so; the default keeps the documented shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic")


def upload_answer(docs: Iterable[dict[str, Any]], *, real_shapes: bool) -> dict[str, Any]:
    """``results`` of an upload (#1): photos under ``images`` when ``real_shapes``."""
    listed = list(docs)
    if not real_shapes:
        return {"docs": listed}
    images = [d for d in listed if str(d.get("name", "")).lower().endswith(IMAGE_SUFFIXES)]
    return {"docs": [d for d in listed if d not in images], "images": images}


def followup_row(row: dict[str, Any], *, real_shapes: bool) -> dict[str, Any]:
    """A listed follow-up (#5); its institutions nested as objects when ``real_shapes``."""
    if not real_shapes:
        return row
    nested = dict(row)
    for side in ("from", "to"):
        key = f"institution_{side}_id"
        if nested.get(key) is not None:
            nested[key] = {"id": nested[key], "name": nested.get(f"institution_{side}_name")}
    return nested
