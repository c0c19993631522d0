"""A stateful simulator of the SIDUMAS (Kabupaten Badung) API (DOMAIN.md §3), for tests and demos.

`create_app()` returns a FastAPI app with the reconstructed `/api/` routes behind a bearer token
obtained from `/api/login`, plus unauthenticated control routes under `/_sim/` (faults: see
`faults`). The state and the seeding live in `sidumas_state`; this module
parses requests and renders the envelope `{success, message, data}`.
"""

from __future__ import annotations

import math
import mimetypes
import secrets
import time
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from bridge.testing.simulators._http import BadBody, read_fields, read_object, route_key
from bridge.testing.simulators.faults import Faults, changes_state, install_faults
from bridge.testing.simulators.sidumas_data import village_for
from bridge.testing.simulators.sidumas_state import PayloadError, SidumasState, UnknownPengaduan

DEMO_EMAIL = "bridge@badungkab.go.id"
DEMO_PASSWORD = "demo-password"  # public on purpose: the simulator guards nothing real


class SidumasError(Exception):
    """Any refusal; rendered as `{"success": false, "message": ..., "data": null}`."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def ok(data: Any, message: str = "") -> dict[str, Any]:
    return {"success": True, "message": message, "data": data}


def fail(message: str, status_code: int) -> JSONResponse:
    body = {"success": False, "message": message, "data": None}
    return JSONResponse(body, status_code=status_code)


class Sessions:
    """Issued bearer tokens; runtime only, so a restarted server forces a new login."""

    def __init__(self, ttl_seconds: float | None) -> None:
        self.ttl_seconds = ttl_seconds
        self._expiry: dict[str, float | None] = {}
        self.logins = 0

    def issue(self) -> str:
        token = secrets.token_hex(20)
        ttl = self.ttl_seconds
        self._expiry[token] = None if ttl is None else time.monotonic() + ttl
        self.logins += 1
        return token

    def valid(self, token: str) -> bool:
        if token not in self._expiry:
            return False
        expiry = self._expiry[token]
        return expiry is None or time.monotonic() < expiry


# -- rendering -----------------------------------------------------------------------------------
def _absolute_files(files: Any, base: str) -> Any:
    """Turn stored `/api/files/...` paths into absolute URLs; leave anything odd as it is."""
    if not isinstance(files, list):
        return files
    out = []
    for item in files:
        if isinstance(item, dict) and str(item.get("url", "")).startswith("/"):
            item = {**item, "url": base + item["url"]}
        out.append(item)
    return out


def render_tanggapans(rec: dict[str, Any], base: str) -> Any:
    tanggapans = rec.get("tanggapans", [])
    if not isinstance(tanggapans, list):
        return tanggapans
    return [
        {**t, "files": _absolute_files(t.get("files", []), base)} if isinstance(t, dict) else t
        for t in tanggapans
    ]


def render_detail(rec: dict[str, Any], base: str) -> dict[str, Any]:
    data = dict(rec)
    if "files" in rec:
        data["files"] = _absolute_files(rec["files"], base)
    data["tanggapans"] = render_tanggapans(rec, base)
    return data


def render_item(rec: dict[str, Any], base: str) -> dict[str, Any]:
    """A list item: the detail without `tanggapans`, with [A] `jumlah_tanggapan` (their count)."""
    data = render_detail(rec, base)
    tanggapans = data.pop("tanggapans", None)
    if "tanggapans" in rec:
        data["jumlah_tanggapan"] = len(tanggapans) if isinstance(tanggapans, list) else 0
    return data


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- the app -------------------------------------------------------------------------------------
def create_app(
    state: SidumasState | None = None,
    *,
    email: str = DEMO_EMAIL,
    password: str = DEMO_PASSWORD,
    per_page: int = 20,
    token_ttl_seconds: float | None = None,
) -> FastAPI:
    """Build the simulator over `state` (a fresh in-memory one by default)."""
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, not {per_page}")
    sim_state = state if state is not None else SidumasState()
    sessions = Sessions(token_ttl_seconds)

    def count(request: Request) -> None:
        sim_state.route_counts[route_key(request)] += 1

    def guard(request: Request) -> None:
        count(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not sessions.valid(token.strip()):
            raise SidumasError(401, "Unauthenticated.")

    app = FastAPI(title="SIDUMAS simulator")
    app.state.sim = sim_state
    app.state.sessions = sessions
    _install_error_handlers(app)
    faults = Faults()
    install_faults(app, faults, lambda status, message: fail(message, status), _is_write)
    public = APIRouter(prefix="/api", dependencies=[Depends(count)])
    api = APIRouter(prefix="/api", dependencies=[Depends(guard)])

    @public.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        fields, _ = await read_fields(request)
        if fields.get("email") != email or fields.get("password") != password:
            raise SidumasError(401, "Email atau kata sandi salah.")
        return ok({"token": sessions.issue()}, "Login berhasil")

    @api.get("/pengaduan/list")
    async def listing(
        request: Request, cid: str | None = None, s: str | None = None, page: int = Query(1, ge=1)
    ) -> dict[str, Any]:
        rows = sim_state.listing(cid, s)
        last_page = max(1, math.ceil(len(rows) / per_page))
        start = (page - 1) * per_page
        base = base_url(request)
        next_url = (
            str(request.url.include_query_params(page=page + 1)) if page < last_page else None
        )
        page_data = {
            "data": [render_item(rec, base) for rec in rows[start : start + per_page]],
            "current_page": page,
            "last_page": last_page,
            "per_page": per_page,
            "total": len(rows),
            "next_page_url": next_url,
        }
        return ok(page_data)

    @api.get("/pengaduan/detail")
    async def detail(request: Request, pengaduan_id: str) -> dict[str, Any]:
        return ok(render_detail(sim_state.find(pengaduan_id), base_url(request)))

    @api.get("/pengaduan/tindaklanjut")
    async def tindaklanjut(request: Request, pengaduan_id: str) -> dict[str, Any]:
        return ok(render_tanggapans(sim_state.find(pengaduan_id), base_url(request)))

    @api.post("/pengaduan/add")
    async def add(request: Request) -> dict[str, Any]:
        fields, files = await read_fields(request)
        uploads = [(f.filename, f.data) for f in files if f.field.startswith("files")]
        rec = sim_state.add(fields, uploads)
        sim_state.create_count += 1
        return ok({"id": rec["id"], "no_tiket": rec["no_tiket"]}, "Pengaduan berhasil dikirim")

    @api.post("/pengaduan/tanggapan")
    async def tanggapan(request: Request) -> dict[str, Any]:
        """[A] a response from an integrated system: official (tipe 1) unless told otherwise."""
        fields, _ = await read_fields(request)
        pengaduan_id = fields.get("pengaduan_id")
        if pengaduan_id in (None, ""):
            raise PayloadError("pengaduan_id", "Kolom pengaduan_id wajib diisi.")
        added = sim_state.add_tanggapan(pengaduan_id, fields, default_tipe=1)
        return ok({"id": added["id"]}, "Tanggapan berhasil dikirim")

    @api.post("/pengaduan/status")
    async def status(request: Request) -> dict[str, Any]:
        """[A] move a complaint's status; an unknown status is refused with 422."""
        fields, _ = await read_fields(request)
        rec = sim_state.set_status(fields.get("pengaduan_id"), fields)
        data = {k: rec[k] for k in ("id", "status", "status_pengaduan")}
        return ok(data, "Status berhasil diubah")

    @api.get("/desa")
    async def desa(lat: float, lng: float) -> dict[str, Any]:
        return ok(village_for(lat, lng))

    @api.get("/files/{name}")
    async def file(name: str) -> Response:
        data = sim_state.file_bytes(name)
        if data is None:
            raise SidumasError(404, "Berkas tidak ditemukan.")
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return Response(data, media_type=media_type)

    app.include_router(public)
    app.include_router(api)
    app.include_router(_control_routes(sim_state, sessions, faults))
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SidumasError)
    async def on_error(_: Request, exc: SidumasError) -> JSONResponse:
        return fail(exc.message, exc.status_code)

    @app.exception_handler(PayloadError)
    async def on_payload(_: Request, exc: PayloadError) -> JSONResponse:
        return fail(str(exc), 422)

    @app.exception_handler(BadBody)
    async def on_bad_body(_: Request, exc: BadBody) -> JSONResponse:
        return fail(str(exc), 422)

    @app.exception_handler(UnknownPengaduan)
    async def on_unknown(_: Request, exc: UnknownPengaduan) -> JSONResponse:
        return fail(f"Pengaduan {exc.args[0]} tidak ditemukan.", 404)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = str(first["loc"][-1]) if first.get("loc") else "request"
        return fail(f"Kolom {field} tidak sah: {first.get('msg', '')}", 422)


def _is_write(method: str, path: str) -> bool:
    """Every POST but the login changes a complaint."""
    return changes_state(method, path) and path != "/api/login"


def _control_routes(state: SidumasState, sessions: Sessions, faults: Faults) -> APIRouter:
    """Unauthenticated `/_sim/` routes for tests and demos: inspect, inject, seed, reset."""
    sim = APIRouter(prefix="/_sim")

    @sim.get("/pengaduan")
    async def all_records() -> list[dict[str, Any]]:
        return state.records

    @sim.post("/pengaduan")
    async def inject(request: Request) -> dict[str, Any]:
        return state.upsert_raw(await read_object(request))

    @sim.post("/pengaduan/{pengaduan_id}/tanggapan")
    async def respond(pengaduan_id: str, request: Request) -> dict[str, Any]:
        return state.add_tanggapan(pengaduan_id, await read_object(request))

    @sim.post("/pengaduan/{pengaduan_id}/status")
    async def move(pengaduan_id: str, request: Request) -> dict[str, Any]:
        """An officer changes the status inside SIDUMAS."""
        return state.set_status(pengaduan_id, await read_object(request))

    @sim.post("/seed")
    async def seed(request: Request) -> dict[str, Any]:
        body = await read_object(request)
        n = body.get("n", 50)
        if not isinstance(n, int) or isinstance(n, bool):
            raise PayloadError("n", "n must be an integer.")
        return {"added": state.seed(n)}

    @sim.post("/reset")
    async def reset() -> dict[str, Any]:
        faults.reset()
        state.reset()
        return {"reset": True}

    @sim.get("/stats")
    async def stats() -> dict[str, Any]:
        return {
            "routes": dict(state.route_counts),
            "creates": state.create_count,
            "logins": sessions.logins,
            "records": len(state.records),
        }

    return sim
