"""The redaction processor: secrets masked, personal data digested, free text scrubbed."""

from __future__ import annotations

import re
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from bridge.log import redact
from bridge.model import Reporter
from bridge.privacy import pii_digest, redact_record, register_secret, scrub_text

NIK = "3171234567890001"
DIGEST = re.compile(r"<pii:[0-9a-f]{6}>")


def _logged(event: str = "test.event", **values: Any) -> dict[str, Any]:
    with capture_logs(processors=[redact]) as logs:
        structlog.get_logger().info(event, **values)
    (entry,) = logs
    return dict(entry)


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "api_guid",
        "token",
        "password",
        "secret",
        "Authorization",
        "auth",
        "cookie",
        "access_token",
        "x-api-key",
        "db_password",
        "client_secret",
        "Set-Cookie",
    ],
)
def test_secret_keys_are_masked(key: str) -> None:
    """The value of a secret-named key is replaced by ***."""
    assert _logged(**{key: "s3cr3t-value"})[key] == "***"


def test_nested_secrets_are_masked() -> None:
    """Secret keys are masked inside nested dicts and lists too."""
    entry = _logged(request={"headers": [{"auth": "Bearer abc"}, {"token": "guid-1"}]})

    assert entry["request"] == {"headers": [{"auth": "***"}, {"token": "***"}]}


def test_unset_secrets_stay_visible() -> None:
    """None and empty values are shown as they are: "unset" reveals nothing."""
    assert _logged(api_key=None, password="")["api_key"] is None


@pytest.mark.parametrize(
    "key",
    [
        "nik",
        "phone",
        "telp",
        "email",
        "name",
        "nama",
        "pelapor",
        "reporter",
        "nameUser",
        "phoneUser",
        "emailUser",
        "atas_nama",
        "alamat",
        "address",
        "nama_pelapor",
        "no_hp",
    ],
)
def test_personal_data_keys_are_digested(key: str) -> None:
    """The value of a personal-data key becomes a short digest."""
    assert DIGEST.fullmatch(_logged(**{key: "Budi Santoso"})[key])


def test_labels_that_are_not_people_are_kept() -> None:
    """Keys such as status_name or kategori_name are not taken for a person's name."""
    entry = _logged(status_name="Dalam Proses", kategori_name="Jalan", route="a-to-b")

    assert (entry["status_name"], entry["kategori_name"]) == ("Dalam Proses", "Jalan")


def test_reporter_model_is_digested_whole() -> None:
    """A Reporter passed as a value shows as one digest, none of its fields."""
    entry = _logged(reporter=Reporter(name="Budi", nik=NIK, phone="081234567890"))

    assert DIGEST.fullmatch(entry["reporter"])


def test_digest_is_stable_and_distinguishes_people() -> None:
    """One value always gets the same digest; two values get different ones."""
    first, again = _logged(nik=NIK)["nik"], _logged(nik=NIK)["nik"]

    assert first == again == pii_digest(NIK)
    assert pii_digest("Budi") != pii_digest("Siti")


@pytest.mark.parametrize(
    "text",
    [
        f"NIK {NIK} submitted",
        "call 081234567890 now",
        "call 0812-3456-7890 now",
        "call 0812 3456 7890 now",
        "call +62 812-3456-7890 now",
        "call +6281234567890 now",
        "call 6281234567890 now",
        "write to budi.santoso+lapor@mail.example.go.id please",
    ],
)
def test_personal_data_in_free_text_is_digested(text: str) -> None:
    """NIKs, Indonesian phone numbers and e-mail addresses in any text become digests."""
    scrubbed = scrub_text(text)

    first, *_, last = text.split()
    assert re.fullmatch(rf"{first} [^ ]+ ?.* {last}", scrubbed)
    assert len(DIGEST.findall(scrubbed)) == 1
    assert not re.search(r"\d{4}|@", DIGEST.sub("", scrubbed))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("header Bearer eyJhbGciOi.J9.x-y_z=", "header Bearer ***"),
        ("GET https://h/x?token=abc123&page=2", "GET https://h/x?token=***&page=2"),
        ("GET https://h/x?page=2&api_key=k-1", "GET https://h/x?page=2&api_key=***"),
        ("POST https://h/login?password=pw#top", "POST https://h/login?password=***#top"),
        ("postgresql://bridge:pg-pw@db:5432/x", "postgresql://bridge:***@db:5432/x"),
    ],
)
def test_secrets_in_free_text_are_masked(text: str, expected: str) -> None:
    """Bearer tokens, secret query values and URL passwords are masked in any text."""
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2024-08-12T08:30:00+07:00", "complaint 12345678 updated", "page=2&page_size=100"],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    """Dates, LAPOR! tracking ids and plain query values are not taken for personal data."""
    assert scrub_text(text) == text


def test_event_string_is_scrubbed() -> None:
    """Personal data in the event string itself is digested."""
    entry = _logged(f"complaint from {NIK}")

    assert NIK not in entry["event"]
    assert entry["event"].startswith("complaint from <pii:")


def test_registered_secret_is_scrubbed_everywhere() -> None:
    """A registered secret value is masked in the event and in every nested value."""
    register_secret("guid-4f1d-registered")

    entry = _logged("sent guid-4f1d-registered", detail={"body": ["x guid-4f1d-registered y"]})

    assert entry["event"] == "sent ***"
    assert entry["detail"] == {"body": ["x *** y"]}


def test_very_short_secrets_are_not_registered() -> None:
    """A secret shorter than 4 characters would mangle every line, so it is not scrubbed."""
    register_secret("ab")

    assert scrub_text("about") == "about"


def test_numeric_nik_is_digested() -> None:
    """A NIK held as a number under any key is digested."""
    entry = _logged(value=int(NIK), count=3)

    assert DIGEST.fullmatch(entry["value"])
    assert entry["count"] == 3


def test_exception_text_is_scrubbed() -> None:
    """An exception's message and traceback are logged scrubbed, never raw."""
    register_secret("exc-secret-9a8b")
    with capture_logs(processors=[redact]) as logs:
        try:
            raise ValueError(f"refused {NIK} with exc-secret-9a8b")
        except ValueError:
            structlog.get_logger().exception("call.failed")

    (entry,) = logs
    assert "exc_info" not in entry
    assert "ValueError: refused <pii:" in entry["exception"]
    assert NIK not in entry["exception"]
    assert "exc-secret-9a8b" not in entry["exception"]


def test_exception_instance_as_exc_info_is_scrubbed() -> None:
    """exc_info=<exception> is rendered and scrubbed like a caught one."""
    error = RuntimeError("mail budi@example.com")

    entry = _logged(exc_info=error)

    assert "RuntimeError: mail <pii:" in entry["exception"]


def test_redact_record_protects_a_native_record() -> None:
    """A native record is returned with personal data digested, secrets masked, rest kept."""
    record = {
        "id": 7,
        "topik": "Jalan rusak",
        "uraian": "Hubungi 081234567890",
        "atas_nama": "Budi",
        "tanggapans": [{"nama": "Petugas A", "tanggapan": "Diproses"}],
        "token": "abc",
    }

    redacted = redact_record(record)

    assert redacted["id"] == 7
    assert redacted["topik"] == "Jalan rusak"
    assert redacted["uraian"].startswith("Hubungi <pii:")
    assert DIGEST.fullmatch(redacted["atas_nama"])
    assert DIGEST.fullmatch(redacted["tanggapans"][0]["nama"])
    assert redacted["tanggapans"][0]["tanggapan"] == "Diproses"
    assert redacted["token"] == "***"
    assert record["atas_nama"] == "Budi"
