"""One masking function for logs and ledger texts; rahasia set aside as a stub; no escapes."""

from __future__ import annotations

import io
import json

import structlog

from bridge.cli.render import out, text_table
from bridge.errors import RecordInvalid
from bridge.ledger import Ledger
from bridge.log import configure_logging
from bridge.privacy import neutralise, redact_record, register_secret, scrub_text
from bridge.sync import run_cycle
from tests.engine.conftest import door_of, door_record, hub_of, make_route

SPACED_NIK = "3171 0123 4567 8901"
DOTTED_NIK = "3171.0123.4567.8901"
DOTTED_PHONE = "0812.3456.7890"
SPACED_PHONE = "+62 812 3456 7890"
EMAIL = "siti.aminah@contoh.id"
DIGITS = ("3171012345678901", "081234567890", "6281234567890")


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _clean(text: str) -> bool:
    """No seeded NIK or phone in any grouping, and no seeded e-mail, is in ``text``."""
    runs = _digits(text)
    return EMAIL not in text and not any(d in runs for d in ("3171012345678901", "81234567890"))


def test_scrub_text_masks_spaced_and_dotted_shapes() -> None:
    """NIK and phone grouped by spaces, dots or hyphens are masked like plain ones."""
    text = f"NIK {SPACED_NIK} / {DOTTED_NIK}, HP {DOTTED_PHONE}, {SPACED_PHONE}, {EMAIL}"
    assert _clean(scrub_text(text))


def test_unknown_personal_keys_are_masked_whatever_their_name() -> None:
    """nama_pengadu, no_ktp, kontak_wa are personal data; status_name stays readable."""
    record = {
        "nama_pengadu": "Siti Aminah",
        "no_ktp": "3171",
        "kontak_wa": "0812",
        "status_name": "Baru",
        "catatan": f"nama saya Siti Aminah, wa {DOTTED_PHONE}",
    }
    masked = redact_record(record)
    assert "Siti" not in json.dumps(masked) and "0812" not in json.dumps(masked)
    assert masked["status_name"] == "Baru"


def test_a_secret_registered_when_received_is_masked_in_later_text() -> None:
    """A session token is masked in any text once registered (connectors/rest.py login)."""
    register_secret("sess-7f3a9c2e-token")
    assert "sess-7f3a9c2e-token" not in scrub_text("refused: session sess-7f3a9c2e-token expired")


def test_reasons_and_details_are_masked_at_rest(ledger: Ledger) -> None:
    """A review's reason and detail and a quarantine reason hold no personal data in the ledger."""
    reason = f"door refused: pelapor {EMAIL} HP {DOTTED_PHONE} NIK {SPACED_NIK}"
    ledger.reviews.flag("r", "lb1", "door", "write", reason, {"no_ktp": "3171012345678901"})
    ledger.quarantine.add("r", "door", "9", reason, None, "{}")
    [flag] = ledger.reviews.listed()
    [held] = ledger.quarantine.listed()
    for text in (flag.reason, flag.detail, held.reason):
        assert _clean(text), text


def test_a_refusal_quoting_personal_data_is_masked_in_log_and_ledger(ledger: Ledger) -> None:
    """A target's refusal message quoting NIK and phone is masked in the daemon log and ledger."""
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    route = make_route(ledger)
    door_of(route).put(door_record(1))
    hub_of(route).fail_next(1, RecordInvalid(f"NIK {DOTTED_NIK} dan HP {SPACED_PHONE} ditolak"))
    run_cycle(route)
    structlog.reset_defaults()
    [held] = ledger.quarantine.listed()
    assert "ditolak" in held.reason
    assert _clean(held.reason) and _clean(stream.getvalue())


def test_a_rahasia_record_set_aside_keeps_only_its_id(ledger: Ledger) -> None:
    """The stored copy of a set-aside rahasia record holds its id, not its text."""
    route = make_route(ledger)
    door_of(route).put(door_record(1, hide_pengaduan=1, kategori_id=999, uraian="Rahasia: suap"))
    report = run_cycle(route)
    [held] = ledger.quarantine.listed()
    assert report.counts["set_aside"] == 1
    stored = json.loads(held.record_json)
    assert stored["id"] == "1" and stored["rahasia"] is True
    assert "suap" not in held.record_json
    again = run_cycle(route)  # unchanged since: not set aside again, not retried
    assert again.counts["set_aside"] == 0


def test_neutralise_shows_terminal_escapes_instead_of_acting_on_them() -> None:
    """ESC, CSI (C1) and BEL become visible escapes; newline and tab stay."""
    assert neutralise("a\x1b[2Jb\x9b\x07\n\t") == "a\\x1b[2Jb\\x9b\\x07\n\t"


def test_cli_output_neutralises_escapes_in_data() -> None:
    """Text and table cells holding ESC[2J or an OSC title are printed as text, not acted on."""
    with out.capture() as captured:
        out.print("reason: \x1b[2J\x1b]0;pwned\x07", markup=False)
        out.print(text_table("t", ["reason"], [["\x1b[31mred\x9b"]]))
    shown = captured.get()
    assert "\x1b" not in shown and "\x9b" not in shown and "\\x1b[2J" in shown
