"""The record of processing: which personal fields a copy carried, by name, never by value.

At each create the engine notes in the complaint's history the names of the personal
fields the outgoing complaint held (``bridge privacy report`` reads them back for a
data-protection officer). The function takes plain values so that this leaf module
stays free of the model.
"""

from __future__ import annotations

PERSONAL_FIELDS = (
    "reporter_name",
    "nik",
    "phone",
    "email",
    "address",
    "coordinates",
    "attachments",
)


def personal_fields(
    *,
    name: str | None,
    nik: str | None,
    phone: str | None,
    email: str | None,
    address: str | None,
    coordinates: bool,
    attachments: int,
) -> tuple[str, ...]:
    """The names, in ``PERSONAL_FIELDS`` order, of the personal fields that hold a value."""
    present = {
        "reporter_name": bool(name),
        "nik": bool(nik),
        "phone": bool(phone),
        "email": bool(email),
        "address": bool(address),
        "coordinates": coordinates,
        "attachments": attachments > 0,
    }
    return tuple(field for field in PERSONAL_FIELDS if present[field])
