"""No secret and no citizen's personal data anywhere the bridge writes text, and TLS by default.

One end-to-end run over loopback (SIDUMAS → LAPOR! and back) that sets records aside (one
refused by LAPOR! itself), flags an unknown status for review, fails a cycle on a 503, and
fails another on a wrong API key. Everything it wrote is then searched for the configured
secrets (and the wrong key) and for every seeded NIK, phone number, e-mail address and name:
every debug log line (structlog JSON, libraries included), every text of every ledger table
(cycle errors, quarantine reasons and stored records, reviews, events, health), and the output
of ``bridge status`` and ``bridge trace``.
"""

from __future__ import annotations

import io
import random
import sqlite3
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bridge.cli.app import app
from bridge.config import load_config
from bridge.connector import Connector
from bridge.connectors.lapor import LaporConnector, LaporSettings
from bridge.connectors.memory import MemoryConnector, MemorySettings
from bridge.connectors.open311 import Open311Connector, Open311Settings
from bridge.connectors.rest import RestConnector, RestSettings
from bridge.demo import DEMO_SECRETS
from bridge.errors import ConfigError, RetryableError
from bridge.http import RetrySettings
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.mapping import load_mapping
from bridge.sync import Route, run_cycle
from bridge.testing.simulators.sidumas_data import fake_reporter
from tests.conftest import MAPPINGS
from tests.hostile.conftest import FROM_LAPOR, TO_LAPOR, Pair
from tests.hostile.corpus import load

pytestmark = pytest.mark.e2e

WRONG_KEY = "wr0ng-api-key-5b1f9c"


def reporters(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [fake_reporter(rng) for _ in range(n)]


def seed(pair: Pair) -> list[dict[str, Any]]:
    """SIDUMAS complaints (good, refused by LAPOR!, unmappable, unknown status) and LAPOR! ones."""
    template = load("sidumas").good[0]
    people = reporters(6)
    records = [
        {**template, **people[0], "id": 1},
        {**template, **people[1], "id": 2, "uraian": f"Hubungi {people[1]['telp']}."},
        {**template, **people[2], "id": 3, "pelapor": ""},  # LAPOR! refuses it: 422
        {**template, **people[3], "id": 4, "topik": ""},  # the mapping refuses it
        {**template, **people[4], "id": 5, "status": 99, "status_pengaduan": "Entah"},  # review
    ]
    for record in records:
        pair.door_state.upsert_raw(record)
    hub = load("lapor").good[0]
    text = f"NIK saya {people[5]['nik']}, telp {people[5]['telp']}, surel {people[5]['email']}."
    pair.hub_state.insert_raw({**hub, "id": 4100500, "content": text})
    return people


def ledger_texts(path: Path) -> str:
    """Every value of every table of the SQLite ledger, as text."""
    with sqlite3.connect(path) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        lines = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                lines.append(f"{table}: " + " | ".join(str(value) for value in row))
    return "\n".join(lines)


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=DEMO_SECRETS, catch_exceptions=False)
    return result.output


@pytest.fixture
def captured() -> io.StringIO:
    """Every log line, at debug level, as the daemon writes them (JSON), libraries included.

    Logging is put back as it was afterwards by the suite's ``_restore_logging``.
    """
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    return stream


def test_nothing_written_anywhere_holds_a_secret_or_personal_data(
    pair: Pair, captured: io.StringIO
) -> None:
    """Logs, ledger, status and trace are clean after rejects, reviews, a 503 and a wrong key."""
    people = seed(pair)
    assert pair.sync(TO_LAPOR).ok
    assert pair.sync(FROM_LAPOR).ok
    # A failing request: LAPOR! answers 503 to the next request (the create), and with one
    # attempt allowed that complaint is owed to the next cycle, its error logged.
    pair.door_state.upsert_raw({**load("sidumas").good[1], **reporters(7)[6], "id": 50})
    httpx.post(f"{pair.hub.url}/_sim/faults", json={"fail_next_requests": 1}).raise_for_status()
    failed = pair.sync(
        TO_LAPOR, secrets={**DEMO_SECRETS, "BRIDGE_CONNECTORS__LAPOR__RETRY_ATTEMPTS": "1"}
    )
    # A wrong API key: LAPOR! answers 401.
    wrong = {**DEMO_SECRETS, "BRIDGE_CONNECTORS__LAPOR__API_KEY": WRONG_KEY}
    refused = pair.sync(FROM_LAPOR, secrets=wrong)
    logs = captured.getvalue()

    assert failed.counts["unconfirmed"] == 1 and "complaint.unconfirmed" in logs
    assert refused.error is not None and refused.error.startswith("AuthError")
    assert "complaint.set_aside" in logs and "complaint.created" in logs
    ledger_file = load_config(pair.config_path, environ=DEMO_SECRETS).ledger.url
    stored = ledger_texts(Path(ledger_file.removeprefix("sqlite:///")))
    assert "HTTP 422" in stored and "AuthError" in stored and "RetryableError" in stored
    assert "<pii:" in stored  # the set-aside records are stored, with their personal data masked
    with pair.ledger() as ledger:
        assert ledger.reviews.listed(), "the unknown status should be waiting for review"
    tracking_id = str(min(pair.hub_state.complaints))
    shown = "\n".join(
        [
            cli("status", "--config", str(pair.config_path)),
            cli("trace", tracking_id, "--config", str(pair.config_path)),
            cli("trace", "3", "--config", str(pair.config_path)),
            cli("trace", "4100500", "--config", str(pair.config_path)),
        ]
    )
    assert "sidumas-to-lapor" in shown and tracking_id in shown

    secrets = [*DEMO_SECRETS.values(), WRONG_KEY]
    personal = [p[key] for p in people for key in ("nik", "telp", "email", "pelapor")]
    for where, text in (("logs", logs), ("ledger", stored), ("CLI output", shown)):
        for secret in secrets:
            assert secret not in text, f"a secret is in the {where}"
        for value in personal:
            assert value not in text, f"{value!r} (personal data) is in the {where}"


def test_a_server_echoing_our_token_in_its_refusal_leaves_no_secret(tmp_path: Path) -> None:
    """A 422 whose message quotes the token header: reason and logs hold no credential."""
    source = MemoryConnector("door", MemorySettings(type="memory", store="door"))
    source.put({**load("sidumas").good[0], "id": "1"})
    settings = LaporSettings(
        type="lapor", base_url="https://api-splp.layanan.go.id/lapor/3.0.0",
        api_key="s3cret-bearer-4821", api_guid="9f0e5c3a-guid-7731",
    )  # fmt: skip
    echo = {"message": "Invalid request: header token=9f0e5c3a-guid-7731 auth=s3cret-bearer-4821"}
    with respx.mock, Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        respx.post(url__regex=r".*/complaints/complaint$").respond(422, json=echo)
        # A new ledger's first pass looks the complaint up by reference first: not there.
        nothing = {"results": {"data": [], "next_page_url": None}, "message": "Success"}
        respx.get(url__regex=r".*/complaints(\?.*)?$").respond(200, json=nothing)
        target = LaporConnector("lapor", settings, retry=RetrySettings(attempts=1))
        route = Route(
            name="door-to-lapor", source=source, target=target, ledger=ledger,
            source_mapping=load_mapping(MAPPINGS / "sidumas.toml"),
            target_mapping=load_mapping(MAPPINGS / "lapor.toml"),
        )  # fmt: skip
        assert run_cycle(route).ok
        [held] = ledger.quarantine.listed()
        target.close()
    assert "HTTP 422" in held.reason
    for secret in ("9f0e5c3a-guid-7731", "s3cret-bearer-4821"):
        assert secret not in held.reason


# -- transport security -------------------------------------------------------------------------

BUILDERS: dict[str, Callable[..., Connector]] = {
    "lapor": lambda url, **o: LaporConnector(
        "lapor",
        LaporSettings(type="lapor", base_url=url, api_key="k3y", api_guid="g", **o),
        retry=RetrySettings(attempts=1),
    ),
    "rest": lambda url, **o: RestConnector(
        "sidumas",
        RestSettings(type="rest", base_url=url, list_path="list", records_path="data", **o),
        retry=RetrySettings(attempts=1),
    ),
    "open311": lambda url, **o: Open311Connector(
        "open311",
        Open311Settings(type="open311", base_url=url, window_days=3650, **o),
        retry=RetrySettings(attempts=1),
    ),
}
LISTINGS = {
    "lapor": b'{"results": {"data": [], "next_page_url": null}}',
    "rest": b'{"data": []}',
    "open311": b"[]",
}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_plain_http_to_another_host_is_refused_unless_allowed(kind: str) -> None:
    """Every HTTP connector refuses http:// off loopback, naming allow_insecure_http."""
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        BUILDERS[kind]("http://pengaduan.badungkab.go.id/api/")
    BUILDERS[kind]("http://pengaduan.badungkab.go.id/api/", allow_insecure_http=True).close()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An HTTPS server on loopback with a self-signed certificate no trust store knows."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind = next((k for k in LISTINGS if f"/{k}/" in self.path), "lapor")
            body = LISTINGS[kind]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_tls_certificates_are_verified_by_default(tls_server: str, kind: str) -> None:
    """A self-signed certificate is refused unless verify_tls = false is set for the connector."""
    url = f"{tls_server}/{kind}/"
    with BUILDERS[kind](url) as connector, pytest.raises(RetryableError, match="ConnectError"):
        list(connector.pull())
    with BUILDERS[kind](url, verify_tls=False) as connector:
        assert list(connector.pull()) == []


# -- personal data in any key and any spelling (issue 11) ---------------------------------------

SHAPED = {
    "nama_pengadu": "Ni Luh Sekar Arumsari",
    "no_ktp": "5103 0156 7890 1234",
    "kontak_wa": "+62 813.9876.5432",
    "surel_warga": "sekar.arumsari@contoh.id",
}
SESSION_TOKEN = "sess-4be1c0de-77aa"


def _digit_runs(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def test_unknown_keys_and_spaced_shapes_leave_no_trace(
    tmp_path: Path, captured: io.StringIO
) -> None:
    """Odd keys, spaced/dotted NIK and phone, a refusal quoting them and a session token: masked."""
    from bridge.errors import RecordInvalid
    from bridge.privacy import register_secret

    register_secret(SESSION_TOKEN)  # as connectors/rest.py does when the token arrives
    door = MemoryConnector("door", MemorySettings(type="memory", store="door"))
    hub = MemoryConnector("hub", MemorySettings(type="memory", store="hub"))
    # The door maps its reporter (pelapor); nama_pengadu and the others are keys it does not map.
    template = {**load("sidumas").good[0], "pelapor": SHAPED["nama_pengadu"]}
    text = f"{SHAPED['nama_pengadu']}, KTP {SHAPED['no_ktp']}, WA {SHAPED['kontak_wa']}"
    door.put({**template, **SHAPED, "id": "1", "kategori_id": 999, "uraian": text})
    door.put({**template, **SHAPED, "id": "2", "uraian": text})
    door.put({**template, **SHAPED, "id": "3", "kategori_id": 999, "hide_pengaduan": 1})
    refusal = f"ditolak: {text}, {SHAPED['surel_warga']}, session {SESSION_TOKEN}"
    hub.fail_next(1, RecordInvalid(refusal), operations=("create",))
    path = tmp_path / "l.db"
    with Ledger.open(f"sqlite:///{path}") as ledger:
        route = Route(
            name="door-to-hub", source=door, target=hub, ledger=ledger,
            source_mapping=load_mapping(MAPPINGS / "sidumas.toml"),
            target_mapping=load_mapping(MAPPINGS / "lapor.toml"),
        )  # fmt: skip
        run_cycle(route)
        assert len(ledger.quarantine.listed()) == 3
    stored, logs = ledger_texts(path), captured.getvalue()
    assert "ditolak" in stored and "ditolak" in logs
    # Known gap: a create's error (pending_op, its create_failed event) may still quote a bare
    # name the refusal holds; a name is masked where the record's reporter is known (set-aside
    # reasons and records, logs) or where the text introduces it ("nama saya ...").
    named = "\n".join(
        line
        for line in stored.splitlines()
        if not (line.startswith("pending_op:") or "create_failed" in line)
    )
    for where, written, text_of_names in (("ledger", stored, named), ("logs", logs, logs)):
        runs = _digit_runs(written)
        for value in ("5103015678901234", "8139876543"):
            assert value not in runs, f"{value} is in the {where}"
        for value in (SHAPED["surel_warga"], SESSION_TOKEN):
            assert value not in written, f"{value!r} is in the {where}"
        for value in ("Sekar", "Arumsari"):
            found = [line for line in text_of_names.splitlines() if value in line]
            assert not found, f"{value!r} is in the {where}: {found}"
