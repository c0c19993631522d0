"""Request parsing both simulators share; each app renders `BadBody` in its own envelope."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile


class BadBody(ValueError):
    """The body is not what the route accepts (not JSON, not an object, …)."""


def route_key(request: Request) -> str:
    """The method and route template (`GET /complaints/{complaint_id}/complaint`), for stats."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def read_json(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadBody("The request body must be valid JSON.") from None


async def read_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadBody("The request body must be a JSON object.")
    return body


@dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    data: bytes


async def read_fields(request: Request) -> tuple[dict[str, Any], list[Upload]]:
    """Fields and uploaded files of a form, or the fields of a JSON object some clients send."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await read_object(request), []
    fields: dict[str, Any] = {}
    files: list[Upload] = []
    # Read the uploads inside the context so their spooled temp files are closed afterwards.
    async with request.form() as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append(Upload(key, value.filename or "file", await value.read()))
            else:
                fields[key] = value
    return fields, files
