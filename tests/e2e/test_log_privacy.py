"""No secret and no reporter's personal data appears in the logs of an end-to-end run."""

from __future__ import annotations

import io

import pytest

from bridge.demo import DEMO_SECRETS
from bridge.log import configure_logging
from tests.e2e.test_sidumas_to_lapor import sync_once
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def test_debug_logs_of_a_full_run_carry_no_secret_and_no_personal_data(sims: Sims) -> None:
    """Every log line at debug level, from the bridge and its libraries, is clean."""
    good = dict(sims.door_state.records[0])
    sims.door_state.upsert_raw({**good, "id": 9001, "topik": ""})  # a set-aside record is logged
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    try:
        report = sync_once(sims)
    finally:
        configure_logging("console", "warning")
    logs = stream.getvalue()
    assert report.ok and "complaint.created" in logs and "complaint.set_aside" in logs
    for secret in DEMO_SECRETS.values():
        assert secret not in logs
    for record in sims.door_state.records:
        for key in ("nik", "telp", "email", "pelapor"):
            value = str(record.get(key) or "")
            if value:
                assert value not in logs, f"{key} of record {record['id']} leaked into the logs"
