"""Redaction of secrets and personal data: what may leave the process in a log line or a record.

Anything that writes text others will read (a log line, a record set aside for a
person, an error message) passes it through here first, because a line cannot be taken
back once it has reached a log collector (TRAPS.md: API keys in URLs and response
bodies ended up in logs). ``bridge.log`` applies it to every log line.

What ``redact_record`` does to a record (or a log event's dict), walking nested dicts
and lists:

- the value of a *secret* key (``api_key``, ``password``, ``authorization``,
  anything ending in ``_token``/``_key``…) becomes ``"***"``;
- the value of a *personal-data* key (``nik``, ``phone``, ``nama``, ``nameUser``…)
  becomes a short digest such as ``"<pii:3f2a9c>"``: the same person gets the same
  digest in every line of a run, so they can be followed without being revealed;
- every other text is scrubbed (``scrub_text``) for NIKs, Indonesian phone numbers,
  e-mail addresses, ``Bearer`` tokens, secret URL query values, URL passwords and every
  secret passed to ``register_secret``.

A leaf: it imports nothing of the bridge.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from bridge.privacy.identity import (
    EMAIL_SHAPE,
    INTRODUCED_NAME,
    NIK_SHAPE,
    PHONE_SHAPE,
    mask_names,
)
from bridge.privacy.terminal import neutralise

MASK = "***"

_SECRET_KEYS = frozenset(
    {"token", "api_key", "api_guid", "password", "secret", "authorization", "auth", "cookie"}
)
_SECRET_SUFFIXES = ("_token", "_key", "_password", "_secret", "_cookie")
# Matched whole: "name" alone is a person, but "status_name" or "category_name" is not.
_PII_KEYS = frozenset(
    {
        "name",
        "nama",
        "nama_lengkap",
        "full_name",
        "fullname",
        "username",
        "user_name",
        "atas_nama",
        "address",
        "nameuser",
        "phoneuser",
        "emailuser",
        "first_name",  # Open311
        "last_name",
    }
)
# Matched as one word of the key: "nama_pelapor", "no_hp", "phoneUser", "email_pelapor".
_PII_WORDS = frozenset(
    {"nik", "phone", "telp", "telepon", "hp", "handphone", "whatsapp", "email", "wa", "ktp"}
    | {"pelapor", "reporter", "alamat", "pengadu", "kontak", "koordinat"}
    | {"latitude", "longitude", "lat", "lng"}
)

_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:[\w-]*token|[\w-]*key|[\w-]*password|api_guid|secret)=)[^&;#\s\"'<>]+"
)
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")

# Per-process key: digests are stable within a run, but a short unkeyed hash of a
# 16-digit NIK could be reversed by trying the few NIKs of a known birth date.
_PII_KEY = secrets.token_bytes(16)
# Shorter secrets would mask every occurrence of a common word or number in every line.
_MIN_SECRET_LENGTH = 4
_registered: set[str] = set()
_registered_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Scrub ``value`` wherever it appears in any later log text."""
    global _registered_pattern
    if len(value) < _MIN_SECRET_LENGTH or value in _registered:
        return
    _registered.add(value)
    # Longest first, so that a secret containing another is masked whole.
    alternatives = sorted(_registered, key=len, reverse=True)
    _registered_pattern = re.compile("|".join(re.escape(s) for s in alternatives))


def pii_digest(value: object) -> str:
    """A short digest standing for one piece of personal data, stable within this process."""
    text = str(value).strip().lower()
    digest = hmac.new(_PII_KEY, text.encode(), hashlib.blake2b).hexdigest()
    return f"<pii:{digest[:6]}>"


MAX_TEXT = 10_000  # longer values are cut: a log line or a set-aside record needs no more


def scrub_text(text: str) -> str:
    """``text`` with secrets masked and NIKs, phone numbers and e-mail addresses digested."""
    if len(text) > MAX_TEXT:
        text = f"{text[:MAX_TEXT]}…[{len(text) - MAX_TEXT} more characters]"
    if _registered_pattern is not None:
        text = _registered_pattern.sub(MASK, text)
    text = _BEARER.sub(rf"\g<1>{MASK}", text)
    text = _QUERY_SECRET.sub(rf"\g<1>{MASK}", text)
    text = _URL_PASSWORD.sub(rf"\g<1>{MASK}@", text)
    # E-mail before phone: an address may hold a run of digits. NIK and phone in any
    # grouping ("3171 0123 4567 8901", "0812.3456.7890"): the shapes anonim text loses too.
    for pattern in (EMAIL_SHAPE, NIK_SHAPE, PHONE_SHAPE):
        text = pattern.sub(lambda match: pii_digest(match.group()), text)
    # "nama saya Budi Santoso": a name introduced as one, whatever key holds the text.
    return INTRODUCED_NAME.sub(
        lambda m: m.group(0)[: m.start(1) - m.start(0)] + pii_digest(m.group(1)), text
    )


def scrub_text_of(text: str, names: Iterable[str | None]) -> str:
    """``scrub_text``, and the names of the record's people (known here) digested too.

    A door's refusal may quote the reporter's name bare, where no shape reveals it.
    """
    return mask_names(scrub_text(text), names, pii_digest)


def _key_words(key: str) -> list[str]:
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    return [word for word in re.split(r"[_\-\s.]+", snake.lower()) if word]


def _is_secret_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return normal in _SECRET_KEYS or normal.endswith(_SECRET_SUFFIXES)


def _is_pii_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return normal in _PII_KEYS or any(word in _PII_WORDS for word in _key_words(key))


def _redact_value(key: str, value: Any) -> Any:
    if value is None or value == "":
        return value  # "unset" is worth seeing and reveals nothing
    if _is_secret_key(key):
        return MASK
    if _is_pii_key(key):
        return pii_digest(_as_plain(value))
    return _walk(value)


def _as_plain(value: Any) -> Any:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


def _walk(value: Any) -> Any:
    value = _as_plain(value)
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bool | float) or value is None:
        return value
    if isinstance(value, int):
        # A NIK stored as a number is still a NIK.
        return pii_digest(value) if _NIK.fullmatch(str(value)) else value
    if isinstance(value, Mapping):
        return {str(k): _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_walk(item) for item in value]
    # Anything else (exceptions, paths, dates…) is rendered as text anyway: scrub that text.
    return scrub_text(str(value))


# Keys whose value is a person's name: that name is masked in the record's other texts too.
_NAME_WORDS = frozenset({"nama", "pelapor", "pengadu", "reporter"})


def _is_name_key(key: str) -> bool:
    """A personal-data key that holds a name ("pelapor", "nama_pengadu", "name"; not "nik")."""
    if not _is_pii_key(key):
        return False
    normal = key.lower().replace("-", "_")
    named = {"name", "full_name", "fullname", "username", "user_name", "nameuser", "first_name"}
    return normal in named | {"last_name", "atas_nama"} or bool(_NAME_WORDS & set(_key_words(key)))


def redact_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a native record with secrets masked and personal data digested.

    A name the record holds under a name key ("pelapor": "Budi Santoso") is digested
    wherever the record's texts repeat it ("Saya Budi Santoso, ...").
    """
    redacted = {str(key): _redact_value(str(key), value) for key, value in record.items()}
    names = [
        value for key, value in record.items() if isinstance(value, str) and _is_name_key(str(key))
    ]
    return _mask_names_in(redacted, names) if names else redacted


def _mask_names_in(value: Any, names: Iterable[str]) -> Any:
    if isinstance(value, str):
        return mask_names(value, names, pii_digest)
    if isinstance(value, dict):
        return {k: _mask_names_in(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_names_in(v, names) for v in value]
    return value


def confidential_stub(record: Mapping[str, Any], record_id: str) -> dict[str, Any]:
    """What is kept of a rahasia record set aside: its id and a digest, never its content.

    A person needs the id to open the record in its own system; the digest (of the masked
    record, keyed per process) tells the bridge whether the record changed since.
    """
    masked = repr(sorted(redact_record(record).items()))
    digest = hmac.new(_PII_KEY, masked.encode(), hashlib.blake2b).hexdigest()[:16]
    return {
        "id": record_id,
        "rahasia": True,
        "kept": "only the id: the complaint is rahasia; open it in its own system",
        "digest": digest,
    }


__all__ = [
    "MASK",
    "confidential_stub",
    "neutralise",
    "pii_digest",
    "redact_record",
    "register_secret",
    "scrub_text",
    "scrub_text_of",
]
