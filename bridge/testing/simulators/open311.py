"""A stateful simulator of an Open311 GeoReport v2 server (JSON format), for tests and demos.

`create_app()` serves the standard's routes under `/open311/v2/`, the
`servicerequestupdates` extension (FixMyStreet's, for notes and status changes) when
`updates=True`, and unauthenticated control routes under `/_sim/` (faults: see
`faults`). Every refusal is the standard's error list
`[{"code": 400, "description": "..."}]` unless `errors="django"` (below).

Choices where servers differ:
- `start_date`/`end_date` filter on `filter_field` (`updated_datetime` by default; the
  standard says `requested_datetime`), both ends inclusive; without them the standard's
  default window (the last 90 days) applies.
- At most `max_results` requests (the standard's 1000) per listing; v2 has no pagination.
  With `page_size` set, listings are paged the way the City of Helsinki's Django
  GeoReport v2 server pages them: newest first, `page` (from 1) and `page_size`/`per_page`
  (capped at `page_size`) in the query, `X-Next-Page-URL`, `X-Previous-Page-URL`, `X-Page-Count`,
  `X-Page-Size` and `X-Result-Count` in the answer's headers, never in the body.
- `updates_dialect="mysociety"`: the extension as mySociety's open311-adapter serves it.
- `updated_after`/`updated_before` in a request listing (CitySDK's, as the Helsinki
  server has them) filter on `updated_datetime`, both ends excluded, whatever
  `filter_field` is.
- `formats="xml"`: an XML-only server (the standard requires XML, JSON is optional);
  `"both"` serves both.
- `errors="django"`: refusals as the Django server of the Helsinki region
  (6aika/issue-reporting) writes them: `{"code": 400, "detail": ["Invalid API key"]}` (an
  invalid api_key is a 400 there), `<requests><code>…<detail>…` in XML, whose requests
  also have the root `<requests>`.
- `create_response="token"` answers a create with a token only, which `tokens/{token}.json`
  turns into the id when `token_ready` (else it shows the token alone, still pending).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from bridge.testing.simulators._http import read_fields, read_object, route_key
from bridge.testing.simulators.faults import Faults, install_faults
from bridge.testing.simulators.open311_errors import (
    ErrorStyle,
    Open311Error,
    install_error_handlers,
    refusal,
)
from bridge.testing.simulators.open311_mysociety import check_listing, posted_update
from bridge.testing.simulators.open311_paging import paged
from bridge.testing.simulators.open311_state import (
    Open311State,
    PayloadError,
    parse_time,
    service_list,
)
from bridge.testing.simulators.open311_xml import install_xml

DEMO_API_KEY = "demo-open311-key"  # public on purpose: the simulator guards nothing real
DEFAULT_WINDOW = timedelta(days=90)
PREFIX = "/open311/v2"
FilterField = Literal["updated_datetime", "requested_datetime"]


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    parsed = parse_time(raw)
    if parsed is None:
        raise Open311Error(400, f"{name} must be an ISO-8601 date and time")
    return parsed


def _window(request: Request, state: Open311State) -> tuple[datetime, datetime]:
    """The query's [start, end], defaulting like the standard: the 90 days up to now."""
    start, end = _time_param(request, "start_date"), _time_param(request, "end_date")
    if end is None:
        end = state.clock() if start is None else start + DEFAULT_WINDOW
    if start is None:
        start = end - DEFAULT_WINDOW
    return start, end


def _changed(request: Request) -> tuple[datetime, datetime] | None:
    """CitySDK's ``updated_after``/``updated_before`` (both exclusive), when asked.

    The Django server of the Helsinki region has them: they filter on ``updated_datetime``
    whatever ``filter_field`` is; here they replace the date window (the standard's 90-day
    default included).
    """
    after, before = _time_param(request, "updated_after"), _time_param(request, "updated_before")
    if after is None and before is None:
        return None
    return after or datetime.min.replace(tzinfo=UTC), before or datetime.max.replace(tzinfo=UTC)


def _split(value: str | None) -> set[str] | None:
    items = {part.strip() for part in (value or "").split(",") if part.strip()}
    return items or None


def create_app(
    state: Open311State | None = None,
    *,
    api_key: str = DEMO_API_KEY,
    jurisdiction_id: str = "badungkab.go.id",
    updates: bool = True,
    filter_field: FilterField = "updated_datetime",
    max_results: int = 1000,
    create_response: Literal["id", "token"] = "id",
    token_ready: bool = True,
    page_size: int | None = None,
    updates_dialect: Literal["plain", "mysociety"] = "plain",
    formats: Literal["json", "xml", "both"] = "json",
    errors: ErrorStyle = "standard",
) -> FastAPI:
    """Build the simulator over `state` (a fresh in-memory one by default)."""
    if max_results < 1:
        raise ValueError(f"max_results must be at least 1, not {max_results}")
    sim = state if state is not None else Open311State()

    def count(request: Request) -> None:
        sim.route_counts[route_key(request)] += 1
        asked = request.query_params.get("jurisdiction_id")
        if asked not in (None, jurisdiction_id):
            raise Open311Error(404, "jurisdiction_id not found")

    async def authorised(request: Request) -> dict[str, Any]:
        """The form's fields, once its api_key is the right one (403 otherwise)."""
        fields, _ = await read_fields(request)
        if fields.get("api_key") != api_key:
            if errors == "django":  # a serializer's ValidationError: 400, not 403
                raise Open311Error(400, "Invalid API key")
            raise Open311Error(403, "api_key is missing or not valid")
        if fields.get("jurisdiction_id") not in (None, "", jurisdiction_id):
            raise Open311Error(404, "jurisdiction_id not found")
        return {k: v for k, v in fields.items() if k not in ("api_key", "jurisdiction_id")}

    app = FastAPI(title="Open311 GeoReport v2 simulator")
    app.state.sim = sim
    install_error_handlers(app, errors)
    faults = Faults()
    install_faults(app, faults, lambda status, message: refusal(status, message, errors))
    api = APIRouter(prefix=PREFIX, dependencies=[Depends(count)])

    @api.get("/services.json")
    async def services() -> list[dict[str, Any]]:
        return service_list()

    @api.post("/requests.json")
    async def post_request(request: Request) -> list[dict[str, Any]]:
        record = sim.add_request(await authorised(request))
        if create_response == "token":
            return [{"token": sim.new_token(record["service_request_id"])}]
        notice = record["service_notice"]
        return [{"service_request_id": record["service_request_id"], "service_notice": notice}]

    @api.get("/tokens/{token}.json")
    async def token(token: str) -> list[dict[str, Any]]:
        if token not in sim.tokens:
            raise Open311Error(404, "token not found")
        request_id = sim.tokens[token] if token_ready else None
        found = {"token": token}
        return [found if request_id is None else {**found, "service_request_id": request_id}]

    @api.get("/requests.json", response_model=None)
    async def list_requests(request: Request) -> list[dict[str, Any]] | JSONResponse:
        params = request.query_params
        ids = _split(params.get("service_request_id"))
        if ids is not None:  # the standard: ids given, every other filter is ignored
            return [sim.listed(sim.requests[i]) for i in sorted(ids) if i in sim.requests]
        changed = _changed(request)
        start, end = _window(request, sim) if changed is None else changed
        found = sim.select_requests(
            start=start,
            end=end,
            field=filter_field if changed is None else "updated_datetime",
            status=_split(params.get("status")),
            codes=_split(params.get("service_code")),
            limit=max_results if page_size is None else len(sim.requests),
        )
        if changed is not None:  # CitySDK's bounds are exclusive; select_requests' are not
            found = [r for r in found if parse_time(r["updated_datetime"]) not in changed]
        if page_size is None:
            return found
        # The Django server pages newest first (by creation): a request filed while a client
        # walks the pages shifts every later page by one.
        oldest = datetime.min.replace(tzinfo=UTC)
        newest = sorted(
            found, key=lambda r: parse_time(r.get("requested_datetime")) or oldest, reverse=True
        )
        return paged(request, newest, page_size)

    @api.get("/requests/{request_id}.json")
    async def one_request(request_id: str) -> list[dict[str, Any]]:
        return [sim.listed(sim.find(request_id))]

    if updates:
        _update_routes(api, sim, authorised, max_results, mysociety=updates_dialect == "mysociety")
    app.include_router(api)
    app.include_router(_control_routes(sim, faults))
    if formats != "json":
        install_xml(app, prefix=PREFIX, json=formats == "both", django=errors == "django")
    return app


Authorise = Callable[[Request], Awaitable[dict[str, Any]]]


def _update_routes(
    api: APIRouter, sim: Open311State, authorised: Authorise, max_results: int, *, mysociety: bool
) -> None:
    """The `servicerequestupdates` extension: list updates by time, post one.

    ``mysociety``: as mySociety's open311-adapter serves it, the listing takes the dates
    only (any other parameter is refused) and a posted update needs the client's
    ``update_id`` and an upper-case status of its list.
    """

    @api.get("/servicerequestupdates.json")
    async def list_updates(request: Request) -> list[dict[str, Any]]:
        start, end = _window(request, sim)
        request_id = request.query_params.get("service_request_id") or None
        if mysociety:
            check_listing(request.query_params.keys())
        return sim.select_updates(start=start, end=end, request_id=request_id, limit=max_results)

    @api.post("/servicerequestupdates.json")
    async def post_update(request: Request) -> list[dict[str, Any]]:
        fields = await authorised(request)
        if not fields.get("service_request_id"):
            raise Open311Error(400, "service_request_id is required")
        if mysociety:
            fields = posted_update(fields)
        return [{"update_id": sim.add_update(fields)["update_id"]}]


def _control_routes(state: Open311State, faults: Faults) -> APIRouter:
    """Unauthenticated `/_sim/` routes for tests and demos: inspect, inject, seed, reset."""
    sim = APIRouter(prefix="/_sim")

    @sim.get("/requests")
    async def all_requests() -> list[dict[str, Any]]:
        return list(state.requests.values())

    @sim.post("/requests")
    async def inject(request: Request) -> dict[str, Any]:
        return state.insert_raw(await read_object(request))

    @sim.post("/requests/{request_id}/close")
    async def close(request_id: str, request: Request) -> dict[str, Any]:
        """An officer closes the request inside the city's system."""
        body = await read_object(request)
        notes = body.get("status_notes")
        return state.close(request_id, None if notes is None else str(notes))

    @sim.post("/seed")
    async def seed(request: Request) -> dict[str, Any]:
        body = await read_object(request)
        n = body.get("n", 50)
        if not isinstance(n, int) or isinstance(n, bool):
            raise PayloadError("n must be an integer")
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
            "requests": len(state.requests),
            "updates": len(state.updates),
        }

    return sim
