"""How the Open311 simulator refuses: the standard's error list, or the Django server's shape.

GeoReport v2 says ``[{"code": 400, "description": "..."}]``. The Django GeoReport v2 server
of the Helsinki region (6aika/issue-reporting, Django REST framework) answers
``{"code": 400, "detail": ...}`` instead, ``detail`` being a list of messages for a refused
form and a string otherwise (``{"code": 404, "detail": "Not Found"}``); ``errors="django"``
of ``create_app`` answers that way.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bridge.testing.simulators._http import BadBody
from bridge.testing.simulators.open311_paging import InvalidPage
from bridge.testing.simulators.open311_state import PayloadError, UnknownRequest

ErrorStyle = Literal["standard", "django"]


class Open311Error(Exception):
    """A refusal with an HTTP status, rendered in the simulator's error style."""

    def __init__(self, status_code: int, description: str) -> None:
        super().__init__(description)
        self.status_code = status_code
        self.description = description


def refusal(status_code: int, description: str, style: ErrorStyle = "standard") -> JSONResponse:
    """The answer refusing a call, in ``style``."""
    if style == "django":
        detail: str | list[str] = [description] if status_code == 400 else description
        return JSONResponse({"code": status_code, "detail": detail}, status_code=status_code)
    body = [{"code": status_code, "description": description}]
    return JSONResponse(body, status_code=status_code)


def install_error_handlers(app: FastAPI, style: ErrorStyle) -> None:
    """Every refusal of the app's routes, rendered in ``style``."""

    @app.exception_handler(Open311Error)
    async def on_error(_: Request, exc: Open311Error) -> JSONResponse:
        return refusal(exc.status_code, exc.description, style)

    @app.exception_handler(PayloadError)
    async def on_payload(_: Request, exc: PayloadError) -> JSONResponse:
        return refusal(400, str(exc), style)

    @app.exception_handler(BadBody)
    async def on_bad_body(_: Request, exc: BadBody) -> JSONResponse:
        return refusal(400, str(exc), style)

    @app.exception_handler(InvalidPage)
    async def on_invalid_page(_: Request, exc: InvalidPage) -> JSONResponse:
        return refusal(404, str(exc), style)

    @app.exception_handler(UnknownRequest)
    async def on_unknown(_: Request, exc: UnknownRequest) -> JSONResponse:
        return refusal(404, f"service request {exc.args[0]} not found", style)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = str(first["loc"][-1]) if first.get("loc") else "request"
        return refusal(400, f"{field} is not valid: {first.get('msg', '')}", style)
