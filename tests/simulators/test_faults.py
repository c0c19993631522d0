"""Fault injection in every simulator, seen from an httpx client over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bridge.cli.app import app as bridge_app
from bridge.errors import ConfigError
from bridge.testing import simulators
from bridge.testing.simulators import lapor, open311, sidumas
from bridge.testing.simulators.faults import KINDS, FaultError, parse_spec
from bridge.testing.simulators.server import RunningServer
from tests.simulators.conftest import LAPOR_HEADERS, NEW_USER, sidumas_login

Serve = Callable[[Any], RunningServer]
MakeClient = Callable[..., httpx.Client]
TRANSPORT_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)
SHORT_READ = httpx.Timeout(10, read=0.3)  # well under the 2 s the server hangs

SIDUMAS_NEW = {"topik": "Lampu jalan mati", "uraian": "Sudah sebulan gelap.", "kategori_id": "1"}
OPEN311_NEW = {
    "api_key": open311.DEMO_API_KEY,
    "service_code": "pothole",
    "lat": "-8.65",
    "long": "115.2",
    "description": "Jalan berlubang.",
}


@dataclass(frozen=True)
class Sim:
    """How a test talks to one simulator: build, log in, read, write, list what was written."""

    name: str
    build: Callable[[], Any]
    authenticate: Callable[[httpx.Client], object]
    read_path: str
    write_path: str
    write_body: dict[str, Any]  # httpx keyword arguments: json=... or data=...
    records_path: str


SIMS = [
    Sim(
        "lapor",
        lapor.create_app,
        lambda http: http.headers.update(LAPOR_HEADERS),
        "/masters/templates",
        "/complaints/complaint",
        {"json": NEW_USER},
        "/_sim/complaints",
    ),
    Sim(
        "sidumas",
        sidumas.create_app,
        sidumas_login,
        "/api/pengaduan/list",
        "/api/pengaduan/add",
        {"data": SIDUMAS_NEW},
        "/_sim/pengaduan",
    ),
    Sim(
        "open311",
        open311.create_app,
        lambda http: None,
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        {"data": OPEN311_NEW},
        "/_sim/requests",
    ),
]


@dataclass
class Running:
    sim: Sim
    http: httpx.Client

    def faults(self, **switches: Any) -> dict[str, Any]:
        response = self.http.post("/_sim/faults", json=switches)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def injected(self) -> dict[str, int]:
        return dict(self.http.get("/_sim/faults").json()["injected"])

    def read(self, **kwargs: Any) -> httpx.Response:
        return self.http.get(self.sim.read_path, **kwargs)

    def write(self, **body: Any) -> httpx.Response:
        return self.http.post(self.sim.write_path, **(body or self.sim.write_body))

    def records(self) -> int:
        return len(self.http.get(self.sim.records_path).json())


@pytest.fixture(params=SIMS, ids=[s.name for s in SIMS])
def running(request: pytest.FixtureRequest, serve: Serve, client: MakeClient) -> Running:
    """An authenticated client of a fresh simulator with no faults switched on."""
    sim: Sim = request.param
    http = client(serve(sim.build()).url)
    sim.authenticate(http)
    return Running(sim, http)


def no_faults(**counts: int) -> dict[str, int]:
    return {**dict.fromkeys(KINDS, 0), **counts}


# -- each fault, from the client's side ----------------------------------------------------------
def test_error_rate_fails_requests_before_anything_is_done(running: Running) -> None:
    """error_rate=1 answers error_status to a write, which then never happened."""
    running.faults(error_rate=1, error_status=500)
    assert running.write().status_code == 500
    assert running.records() == 0
    assert running.injected() == no_faults(error=1)


def test_read_error_rate_refuses_reads_only(running: Running) -> None:
    """read_error_rate=1 answers error_status to a GET; a write still goes through."""
    running.faults(read_error_rate=1, error_status=404)
    assert running.read().status_code == 404
    assert running.write().status_code < 300
    assert running.injected() == no_faults(error=1)


def test_rate_limit_answers_429_with_retry_after_and_does_nothing(running: Running) -> None:
    """rate_limit_rate=1 answers 429 with the Retry-After header; the write did not happen."""
    running.faults(rate_limit_rate=1, retry_after=2)
    limited = [running.read(), running.write()]
    assert [r.status_code for r in limited] == [429, 429]
    assert [r.headers["Retry-After"] for r in limited] == ["2", "2"]
    assert running.records() == 0
    assert running.injected() == no_faults(rate_limit=2)


def test_latency_is_added_to_every_api_request(running: Running) -> None:
    """latency_ms (with jitter) delays each API request, which then succeeds; each is counted."""
    running.faults(latency_ms=2, latency_jitter_ms=3)
    assert [running.read().status_code for _ in range(3)] == [200, 200, 200]
    assert running.injected() == no_faults(latency=3)


def test_timeout_holds_the_answer_past_the_client_read_timeout(running: Running) -> None:
    """timeout_rate=1 holds the answer timeout_seconds: a shorter read timeout expires."""
    running.faults(timeout_rate=1, timeout_seconds=2)
    with pytest.raises(httpx.ReadTimeout):
        running.read(timeout=SHORT_READ)
    running.faults(timeout_rate=0)
    assert running.read().status_code == 200
    assert running.injected() == no_faults(timeout=1)


def test_dropped_write_is_committed_but_the_client_sees_a_transport_error(
    running: Running,
) -> None:
    """drop_after_commit_rate=1: the write is stored, its connection cut; reads pass untouched."""
    running.faults(drop_after_commit_rate=1)
    with pytest.raises(TRANSPORT_ERRORS):
        running.write()
    assert running.records() == 1
    assert running.read().status_code == 200
    assert running.injected() == no_faults(drop=1)


def test_refused_write_is_not_dropped(running: Running) -> None:
    """A write the simulator refuses commits nothing, so its refusal is delivered, not cut."""
    running.faults(drop_after_commit_rate=1)
    assert 400 <= running.write(json={}).status_code < 500
    assert running.records() == 0
    assert running.injected() == no_faults()


# -- dice, switches, control routes --------------------------------------------------------------
def test_the_same_seed_injects_the_same_faults(running: Running) -> None:
    """Setting seed restarts the dice: the same requests meet the same faults again."""

    def statuses() -> list[int]:
        return [running.read().status_code for _ in range(20)]

    running.faults(error_rate=0.5, seed=7)
    first = statuses()
    running.faults(seed=7)
    assert statuses() == first
    assert set(first) == {200, 503}


def test_control_routes_are_never_faulted(running: Running) -> None:
    """With every fault certain, /_sim/ routes still answer at once and count nothing."""
    running.faults(error_rate=1, rate_limit_rate=1, timeout_rate=1, latency_ms=1)
    assert running.http.get("/_sim/stats").status_code == 200
    assert running.records() == 0
    assert running.injected() == no_faults()


def test_faults_endpoint_changes_only_the_keys_given(running: Running) -> None:
    """POST /_sim/faults applies its keys, keeps the others and answers the current switches."""
    running.faults(error_rate=0.25)
    current = running.faults(retry_after=3)
    assert (current["error_rate"], current["retry_after"]) == (0.25, 3)
    assert (current["error_status"], current["timeout_seconds"]) == (503, 60.0)
    assert running.http.get("/_sim/faults").json() == current


@pytest.mark.parametrize(
    ("switches", "named"),
    [
        ({"eror_rate": 0.5}, "eror_rate"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"retry_after": "soon"}, "retry_after"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_switches_are_refused_naming_the_key_and_change_nothing(
    switches: dict[str, Any], named: str, running: Running
) -> None:
    """An unknown key or a bad value is refused in the app's envelope; nothing is applied."""
    refused = running.http.post("/_sim/faults", json={"latency_ms": 9, **switches})
    assert refused.status_code in (400, 422)
    assert named in refused.text
    assert running.http.get("/_sim/faults").json()["latency_ms"] == 0


def test_reset_puts_the_switches_back_and_zeroes_the_counters(running: Running) -> None:
    """/_sim/reset switches every fault off and forgets how many were injected."""
    before = running.http.get("/_sim/faults").json()
    running.faults(error_rate=1, seed=3)
    assert running.read().status_code == 503
    assert running.http.post("/_sim/reset").status_code == 200
    after = running.http.get("/_sim/faults").json()
    assert after.pop("requests") == 0
    before.pop("requests")
    assert after == before


def test_lapor_keeps_its_own_switches_beside_the_shared_ones(
    serve: Serve, client: MakeClient
) -> None:
    """LAPOR!'s fail_next_requests still works, reported with the shared switches."""
    http = client(serve(lapor.create_app()).url, headers=LAPOR_HEADERS)
    report = http.post("/_sim/faults", json={"fail_next_requests": 1, "fail_status": 502}).json()
    assert report["fail_next_requests"] == 1 and report["error_rate"] == 0
    assert [http.get("/masters/templates").status_code for _ in range(2)] == [502, 200]
    assert http.get("/_sim/faults").json()["fail_next_requests"] == 0


@pytest.mark.parametrize("kind", simulators.KINDS)
def test_build_app_starts_with_the_faults_given(
    kind: str, serve: Serve, client: MakeClient
) -> None:
    """build_app (what `bridge simulate` serves) applies its initial faults."""
    app = simulators.build_app(kind, faults={"rate_limit_rate": 1.0, "retry_after": 4})
    http = client(serve(app).url)
    (sim,) = [s for s in SIMS if s.name == kind]
    answer = http.get(sim.read_path)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "4")


# -- the CLI's --faults --------------------------------------------------------------------------
def test_faults_spec_parses_into_typed_switches() -> None:
    """The CLI's key=value list becomes the dict POST /_sim/faults takes, with numbers typed."""
    spec = "error_rate=0.1, latency_ms=50,rate_limit_rate=0.05,retry_after=2,"
    spec += "drop_after_commit_rate=0.02,seed=7"
    assert parse_spec(spec) == {
        "error_rate": 0.1,
        "latency_ms": 50.0,
        "rate_limit_rate": 0.05,
        "retry_after": 2,
        "drop_after_commit_rate": 0.02,
        "seed": 7,
    }


def test_faults_spec_lists_every_problem_with_its_key() -> None:
    """Unknown keys, non-numbers, out-of-range values and missing '=' are all reported at once."""
    with pytest.raises(FaultError) as caught:
        parse_spec("bogus=1,error_rate=lots,retry_after=1.5,timeout_rate=2,latency_ms")
    problems = caught.value.problems
    assert len(problems) == 5
    for key in ("bogus", "error_rate", "retry_after", "timeout_rate", "latency_ms"):
        assert any(key in problem for problem in problems), key


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["lapor", "--faults", "error_rat=0.1"], "error_rat"),
        (["sidumas", "--faults", "latency_ms=-5"], "latency_ms"),
        (["open311", "--state", "open311.json"], "--state"),
        (["hub", "--faults", "seed=1"], "open311"),
    ],
    ids=["unknown-switch", "bad-value", "open311-state", "unknown-kind"],
)
def test_simulate_refuses_bad_options_as_a_config_error(args: list[str], named: str) -> None:
    """`bridge simulate` with a bad fault, kind or option is a ConfigError; nothing is served."""
    result = CliRunner().invoke(bridge_app, ["simulate", *args])
    assert isinstance(result.exception, ConfigError)
    assert named in str(result.exception)
