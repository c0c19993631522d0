"""The LAPOR! simulator's unauthenticated `/_sim/` control routes, for tests and demos.

What the real API has no route for: inspect every complaint, act as the LAPOR! admin
(verify, dispose, close, set a status), write a follow-up in LAPOR! itself, seed, reset,
release held creates, and download the admin panel's Excel export.
"""

from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from bridge.testing.simulators._http import read_json, read_object
from bridge.testing.simulators.lapor_export import write_export
from bridge.testing.simulators.lapor_faults import LaporFaults
from bridge.testing.simulators.lapor_rules import STATUSES, as_int
from bridge.testing.simulators.lapor_state import LaporState

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _brief(rec: dict[str, Any]) -> dict[str, Any]:
    """What an admin action answers: the complaint's id, status and disposition."""
    return {
        "id": rec["id"],
        "status_code": rec["status_code"],
        "status_name": STATUSES[rec["status_code"]],
        "disposition_id": rec["disposition_id"],
        "updated_at": rec["updated_at"],
    }


def control_routes(state: LaporState, faults: LaporFaults) -> APIRouter:
    """Unauthenticated `/_sim/` routes for tests and demos: inspect, reset, seed, inject faults."""
    sim = APIRouter(prefix="/_sim")

    @sim.get("/complaints")
    async def all_complaints() -> list[dict[str, Any]]:
        return [
            {**rec, "status_name": STATUSES[rec["status_code"]]}
            for rec in state.complaints.values()
        ]

    @sim.post("/complaints")
    async def file_directly(request: Request) -> dict[str, Any]:
        """A citizen files on lapor.go.id itself: no auth, no held response, not counted."""
        return {"id": state.create_complaint(await read_json(request))}

    @sim.post("/complaints/{complaint_id}/status")
    async def set_status(complaint_id: int, request: Request) -> dict[str, Any]:
        body = await read_object(request)
        rec = state.set_status(complaint_id, as_int("status_code", body.get("status_code")) or 0)
        return {"id": rec["id"], "status_code": rec["status_code"]}

    @sim.post("/complaints/{complaint_id}/verify")
    async def verify(complaint_id: int) -> dict[str, Any]:
        """The admin verifies a new complaint (0 → 1)."""
        return _brief(state.verify(complaint_id))

    @sim.post("/complaints/{complaint_id}/dispose")
    async def dispose(complaint_id: int, request: Request) -> dict[str, Any]:
        """The admin disposes the complaint to {"institution_id"}; a new one becomes verified."""
        body = await read_object(request)
        return _brief(state.dispose(complaint_id, body.get("institution_id")))

    @sim.post("/complaints/{complaint_id}/followups")
    async def write_followup(complaint_id: int, request: Request) -> dict[str, Any]:
        """A follow-up written in LAPOR! itself: {content, institution_from_id, author}."""
        body = await read_object(request)
        fields = {**body, "complaint_id": complaint_id}
        followup = state.add_followup(fields, [])
        return {"id": followup["id"], "complaint_id": complaint_id}

    @sim.post("/complaints/{complaint_id}/close")
    async def close(complaint_id: int) -> dict[str, Any]:
        """The admin closes the complaint (status 6)."""
        return _brief(state.close(complaint_id))

    @sim.get("/stats")
    async def stats() -> dict[str, Any]:
        return {
            "routes": dict(state.route_counts),
            "creates": state.create_count,
            "held": faults.held,
        }

    @sim.post("/reset")
    async def reset() -> dict[str, Any]:
        await faults.release()
        faults.reset()
        state.reset()
        return {"reset": True}

    @sim.post("/seed")
    async def seed(request: Request) -> dict[str, Any]:
        body = await read_object(request)
        return {"added": state.seed_from_corpus(as_int("n", body.get("n", 20)) or 0)}

    @sim.post("/release")
    async def release() -> dict[str, Any]:
        return {"released": await faults.release()}

    @sim.get("/wait_held")
    async def wait_held(timeout: float = Query(30.0, ge=0, le=600)) -> dict[str, Any]:
        return {"held": await faults.wait_held(timeout)}

    @sim.get("/export.xlsx")
    async def export(disposition_id: int | None = None) -> Response:
        """The admin panel's Excel export (optionally of one institution's complaints)."""
        buffer = io.BytesIO()
        write_export(state, buffer, institution_id=disposition_id)
        headers = {"Content-Disposition": 'attachment; filename="lapor-export.xlsx"'}
        return Response(buffer.getvalue(), media_type=XLSX_MEDIA_TYPE, headers=headers)

    return sim
