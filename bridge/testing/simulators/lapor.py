"""A stateful simulator of the LAPOR! v3 API (DOMAIN.md §2), for tests and demos.

`create_app()` returns a FastAPI app: the real routes behind the two-header auth, plus
unauthenticated control routes under `/_sim/` that tests use to inspect state and inject faults.
The rules live in `lapor_rules`, the state in `lapor_state`, the fault
switches in `faults` (shared) and `lapor_faults` (held creates, failing the
next requests), the `/_sim/` routes in `lapor_control`; this module only parses
requests and renders responses.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bridge.testing.simulators._http import (
    BadBody,
    Upload,
    read_fields,
    read_json,
    route_key,
)
from bridge.testing.simulators.faults import install_faults
from bridge.testing.simulators.lapor_control import control_routes
from bridge.testing.simulators.lapor_faults import LaporFaults
from bridge.testing.simulators.lapor_rules import (
    INSTITUTIONS,
    STATUSES,
    TEMPLATES,
    PayloadError,
    UnknownComplaint,
    institution_name,
    parse_since,
)
from bridge.testing.simulators.lapor_shapes import followup_row, upload_answer
from bridge.testing.simulators.lapor_state import LaporState

CreateShape = Literal["top", "nested", "alternate"]
_SHAPES = ("top", "nested", "alternate")
_SUMMARY_FIELDS = (
    "id",
    "title",
    "content",
    "status_code",
    "disposition_id",
    "category_id",
    "is_anonymous",
    "is_secret",
    "date_of_incident",
    "created_at",
    "updated_at",
    "tags_raw",
)
_DETAIL_EXTRA = ("classification_id", "location_id", "channel", "is_priority", "status_logs")


class EnvelopeError(Exception):
    """Any refusal; rendered as the LAPOR! envelope with `results: null`."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def envelope(results: Any, message: str = "Success", status_code: int = 200) -> JSONResponse:
    return JSONResponse({"results": results, "message": message}, status_code=status_code)


# -- rendering -----------------------------------------------------------------------------------
def render_summary(rec: dict[str, Any]) -> dict[str, Any]:
    row = {key: rec[key] for key in _SUMMARY_FIELDS}
    row["status_name"] = STATUSES[rec["status_code"]]
    return row


def render_detail(rec: dict[str, Any], docs: dict[int, dict[str, Any]]) -> dict[str, Any]:
    data = render_summary(rec)
    data.update({key: rec.get(key) for key in _DETAIL_EXTRA})
    data["disposition_name"] = institution_name(rec["disposition_id"])
    data["attachments"] = [{"id": i, "name": docs[i]["name"]} for i in rec["attachments"]]
    return data


def render_followup(followup: dict[str, Any]) -> dict[str, Any]:
    row = dict(followup)
    row["attachments"] = [{"id": d["id"], "name": d["name"]} for d in followup["attachments"]]
    # LAPOR! shows follow-up times as d-m-Y H:i:s in WIB with no zone designator.
    created = parse_since(followup["created_at"])
    row["created_at"] = created.strftime("%d-%m-%Y %H:%M:%S")
    return row


def paginate(request: Request, rows: list[Any], page: int, page_size: int) -> dict[str, Any]:
    """Laravel-style page with an absolute `next_page_url` that keeps the rest of the query."""
    start = (page - 1) * page_size
    has_more = start + page_size < len(rows)
    next_url = str(request.url.include_query_params(page=page + 1)) if has_more else None
    return {
        "data": rows[start : start + page_size],
        "current_page": page,
        "per_page": page_size,
        "total": len(rows),
        "next_page_url": next_url,
    }


# -- request parsing -----------------------------------------------------------------------------
def measure(uploads: list[Upload], limit: int) -> list[tuple[str, int]]:
    """(name, size) of each upload; any file over `limit` refuses the whole request with 413."""
    for upload in uploads:
        if len(upload.data) > limit:
            raise EnvelopeError(413, f"The file {upload.filename} is larger than {limit} bytes.")
    return [(upload.filename, len(upload.data)) for upload in uploads]


# -- the app -------------------------------------------------------------------------------------
def create_app(
    state: LaporState | None = None,
    *,
    api_key: str = "demo-key",
    api_guid: str = "demo-guid",
    auth_header: str = "auth",
    create_response_shape: CreateShape = "alternate",
    max_attachment_bytes: int = 5 * 1024 * 1024,
    page_size_max: int = 1000,
    create_path: str = "/complaints/complaint",
    real_shapes: bool = False,
    listing: bool = True,
) -> FastAPI:
    """Build the simulator over `state` (a fresh in-memory one by default).

    ``create_path``: where complaints are created (an integrator's own path);
    ``real_shapes``: answer as production does (see ``lapor_shapes``); ``listing=False``:
    no listing (#9), as for an integration that was not given it.
    """
    if create_response_shape not in _SHAPES:
        raise ValueError(
            f"create_response_shape must be one of {_SHAPES}, not {create_response_shape!r}"
        )
    sim_state = state if state is not None else LaporState()
    faults = LaporFaults()

    def guard(request: Request) -> None:
        sim_state.route_counts[route_key(request)] += 1
        bearer = request.headers.get(auth_header)
        if bearer != f"Bearer {api_key}" or request.headers.get("token") != api_guid:
            raise EnvelopeError(401, "Unauthorized")
        if faults.take_failure():
            raise EnvelopeError(faults.fail_status, "Simulated failure")

    def page_of(request: Request, rows: list[Any], page: int, page_size: int) -> JSONResponse:
        # A page_size above the maximum is capped rather than refused: the client still gets pages.
        return envelope(paginate(request, rows, page, min(page_size, page_size_max)))

    def create_body(complaint_id: int) -> dict[str, Any]:
        shape = create_response_shape
        if shape == "alternate":
            shape = "top" if sim_state.create_count % 2 == 1 else "nested"
        message = "Laporan berhasil dibuat"
        if shape == "top":
            return {"complaint_id": complaint_id, "message": message}
        return {"results": {"complaint": {"id": complaint_id}}, "message": message}

    app = FastAPI(title="LAPOR! v3 simulator")
    app.state.sim = sim_state
    _install_error_handlers(app)
    install_faults(app, faults, lambda status, message: envelope(None, message, status))
    api = APIRouter(dependencies=[Depends(guard)])
    Page = Query(1, ge=1)
    PageSize = Query(20, ge=1)

    @api.post("/complaints/complaint/file")
    async def upload_files(request: Request) -> JSONResponse:
        _, files = await read_fields(request)
        uploads = [upload for upload in files if upload.field == "attachments[]"]
        if not uploads:
            raise PayloadError(
                "attachments[]", "The attachments[] field must hold at least one file."
            )
        measured = measure(uploads, max_attachment_bytes)
        added = sim_state.add_docs(measured)
        answer = upload_answer(added, real_shapes=real_shapes)
        return envelope(answer, "Dokumen berhasil diunggah")

    @api.post(create_path)
    async def create_complaint(request: Request) -> JSONResponse:
        complaint_id = sim_state.create_complaint(await read_json(request))
        sim_state.create_count += 1
        body = create_body(complaint_id)
        if faults.holds_create(sim_state.create_count):
            await faults.hold()  # committed above; the client hears nothing until /_sim/release
        return JSONResponse(body)

    @api.post("/complaints/process/{complaint_id}/reject")
    async def reject(complaint_id: int, request: Request) -> JSONResponse:
        fields, _ = await read_fields(request)
        rec = sim_state.reject(complaint_id, fields)
        results = {"id": rec["id"], "disposition_id": rec["disposition_id"]}
        return envelope(results, "Laporan berhasil dialihkan")

    @api.get("/complaints/{complaint_id}/complaint")
    async def detail(complaint_id: int) -> JSONResponse:
        rec = sim_state.get(complaint_id)
        data = render_detail(rec, sim_state.docs)
        return envelope({"data": data, "data_logs": rec["data_logs"]})

    @api.get("/complaints/{complaint_id}/followups")
    async def followups(
        complaint_id: int, request: Request, page: int = Page, page_size: int = PageSize
    ) -> JSONResponse:
        listed = sim_state.get(complaint_id)["followups"]
        rows = [followup_row(render_followup(f), real_shapes=real_shapes) for f in listed]
        return page_of(request, rows, page, page_size)

    @api.post("/complaints/followup/add")
    async def add_followup(request: Request) -> JSONResponse:
        fields, files = await read_fields(request)
        uploads = [upload for upload in files if upload.field.startswith("attachment")]
        measured = measure(uploads, max_attachment_bytes)
        followup = sim_state.add_followup(fields, measured)
        return envelope({"id": followup["id"], "complaint_id": followup["complaint_id"]})

    @api.get("/masters/institutions/external")
    async def institutions(
        request: Request, page: int = Page, page_size: int = PageSize
    ) -> JSONResponse:
        return page_of(request, INSTITUTIONS, page, page_size)

    @api.get("/masters/templates")
    async def templates(
        request: Request, page: int = Page, page_size: int = PageSize
    ) -> JSONResponse:
        return page_of(request, TEMPLATES, page, page_size)

    @api.get("/complaints", include_in_schema=listing)
    async def list_complaints(
        request: Request,
        disposition_id: int | None = None,
        updated_since: str | None = None,
        search: str | None = None,
        page: int = Page,
        page_size: int = PageSize,
    ) -> JSONResponse:
        if not listing:
            raise EnvelopeError(404, "Route not found")
        try:
            since = parse_since(updated_since) if updated_since else None
        except ValueError:
            raise PayloadError("updated_since", "The updated_since must be ISO-8601.") from None
        recs = sim_state.list_complaints(
            disposition_id=disposition_id, updated_since=since, search=search
        )
        rows = [render_summary(rec) for rec in recs]
        return page_of(request, rows, page, page_size)

    app.include_router(api)
    app.include_router(control_routes(sim_state, faults))
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EnvelopeError)
    async def on_envelope_error(_: Request, exc: EnvelopeError) -> JSONResponse:
        return envelope(None, exc.message, exc.status_code)

    @app.exception_handler(BadBody)
    async def on_bad_body(_: Request, exc: BadBody) -> JSONResponse:
        return envelope(None, str(exc), 422)

    @app.exception_handler(PayloadError)
    async def on_payload_error(_: Request, exc: PayloadError) -> JSONResponse:
        return envelope(None, str(exc), 422)

    @app.exception_handler(UnknownComplaint)
    async def on_unknown(_: Request, exc: UnknownComplaint) -> JSONResponse:
        return envelope(None, f"Complaint {exc.args[0]} not found", 404)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = str(first["loc"][-1]) if first.get("loc") else "request"
        return envelope(None, f"The {field} is invalid: {first.get('msg', '')}", 422)
