"""Mapping files: one TOML file per system, saying declaratively how its records map to ours.

A mapping file is data, never code: no expressions, no templates, nothing evaluated.
It is validated completely at load; ``load_mapping`` raises one ``MappingError`` that
lists every problem, each naming the file, the key and the fix. Once loaded, every path
is pre-split and every value map pre-built, so applying a mapping re-parses nothing.

The format::

    [mapping]
    system = "sidumas"                 # the system's name, for messages
    timezone = "Asia/Makassar"         # IANA zone of naive native times (WIB/WITA/WIT)
    date_formats = ["%Y-%m-%d %H:%M:%S"]   # strptime formats tried in order; ISO-8601 always
    id = "id"                          # native path of the record id (int or text → text)
    updated_at = "updated_at"          # optional; absent = no change feed (scan and compare)
    natural_key = ["title", "content"] # optional: canonical fields that identify a complaint
                                       # without the bridge's reference

    [fields]                           # canonical field = native path, or a table
    title = "topik"                    # read from and written to "topik"
    "reporter.name" = { read = "pelapor", write = "atas_nama" }
    created_at = { read = "tanggal", write = false }          # read only
    incident_date = { path = "date_of_incident", format = "%d/%m/%Y" }
    category = { path = "kategori_id", map = "category", type = "int" }
    is_anonymous = "hide_identitas"    # yes/no: 1/0, "1"/"0", true/false, ya/tidak, yes/no
    status = { read = "status", label = "status_pengaduan", map = "status", write = false }
    attachments = { read = "files", items = { filename = "nama", url = "url" }, write = false }

    [required]
    fields = ["title", "content", "category"]   # missing or empty → RecordInvalid (both ways)

    [defaults]                         # canonical values used when a record has none (both ways)
    channel = "sidumas"

    [constants]                        # native values every to_native payload carries
    is_new_user_slider = true
    instansi = { agency = "name" }     # bridge.toml's [agency] name (also in [defaults])

    [values.status]                    # native code = canonical value; the reverse direction
    "0" = "new"                        # (canonical → code) takes the first code listed
    [values.category]
    "1" = "infrastruktur"

    [followups]                        # optional: follow-up records, same field rules
    id = "id"
    in_record = "tanggapans"           # optional: follow-ups embedded in the complaint record
    [followups.fields]
    content = "tanggapan"
    [followups.required]
    fields = ["content"]
    [followups.defaults]
    [followups.constants]

    [owns]                             # optional: what this system wins in a two-way conflict
    statuses = ["in_progress", "closed"]   # canonical statuses whose transitions it owns
    fields = ["followups"]             # canonical fields (or "followups") it owns

    [status_write]                     # optional: this system accepts status changes
    path = "status"                    # native key of the status code in the payload
    type = "int"                       # "int" | "string"; default: int if every code is one
    [status_write.constants]           # native values every status payload carries

    [transport]                        # optional, opaque: the connector's schema settings
    table = "pengaduan"                # names and paths only: never code, never SQL

Native paths are dotted (``results.data.title``); a digit segment indexes a list
(``files.0.url``) when reading; write paths only name keys. Canonical names are the
fields of ``bridge.model`` (``Complaint``, ``FollowUp``), with ``reporter.*`` and
``location.*`` for the nested ones; ``source_id``, ``updated_at`` and ``raw_status``
come from ``id``, ``updated_at`` and the status ``label``.

Field table keys:

- ``path`` (both ways), or ``read`` / ``write``; ``false`` turns a direction off.
- ``type``: the *native* type — ``string``, ``int``, ``float``, ``bool``, ``datetime``,
  ``date``, ``tags`` (one ``"#a #b"`` string), ``list``, ``attachments``. The default
  follows the canonical field (text → string, lat → float, …).
- ``map``: a ``[values.NAME]`` table for text, yes/no and status fields. ``on_unknown``
  says what an unmapped code does: ``"error"`` (default: RecordInvalid), ``"null"``,
  ``"keep"`` (text only). Status never fails: an unknown code leaves ``status`` None
  with the raw code and label kept, and the engine flags it. ``label_map`` maps status
  labels too; a known label wins over the code (labels are the confirmed vocabulary).
- ``format``: strptime/strftime format of a date or datetime, tried first when reading
  and used when writing (datetimes are written in the mapping's zone; by default in the
  first ``date_formats``, else ISO-8601; dates default to ``%Y-%m-%d``).
- ``write_as``: how yes/no is written — ``"int"`` 1/0 (default), ``"bool"``, ``"string"``.
- ``items``: for attachments, the keys of ``filename``, ``url``, ``content_type``, ``size``.

Two-way sync sections:

- ``[owns]`` says who wins when both sides changed the same thing. ``statuses`` are the
  transitions this system owns (LAPOR! verifies and disposes; the agency finishes the
  case); ``fields`` the canonical fields, or ``"followups"``, whose edits it owns. Both
  are ``Mapping.owned_statuses`` / ``Mapping.owned_fields`` (empty when absent).
- ``[status_write]`` makes ``Mapping.status_to_native`` build a status-change payload:
  the constants, then the code at ``path``: the *first* code listed for the status in
  the status field's ``map``. A status with no code there is a ``RecordInvalid`` that
  names the statuses the system takes. Absent: ``Mapping.can_write_status`` is False.
- ``[transport]`` is kept as a read-only ``Mapping.transport`` (tables become read-only
  mappings, arrays tuples) and not checked here: a connector that needs schema-level
  settings (the SQL connector's tables and joins) validates it itself. It holds names
  and paths only, never code and never SQL text.
- ``natural_key`` adopts complaints entered by hand before the bridge existed: every
  name must be a canonical field this mapping reads (not tags or attachments).
  ``Mapping.natural_key_of`` compares text stripped, whitespace-collapsed and
  case-folded, dates and (UTC) times in ISO; None when a part is missing.

``followup_fingerprint`` identifies a follow-up across systems: a digest of its text
(HTML tags such as ``<br />`` as line breaks, entities decoded, whitespace collapsed,
case kept) and its
attachment file names, never its author or time, which the bridge's copies change.

Times: naive native times get ``timezone``; times with an offset keep theirs. Dates
outside the years 1990 to 2100 are rejected as typos.
"""

from __future__ import annotations

from bridge.mapping._agency import AGENCY_KEYS, CHECK_ONLY, AgencyValues
from bridge.mapping._compile import FieldPaths
from bridge.mapping._identity import followup_fingerprint
from bridge.mapping._mapping import Mapping, check_mappings, load_mapping

__all__ = [
    "AGENCY_KEYS",
    "CHECK_ONLY",
    "AgencyValues",
    "FieldPaths",
    "Mapping",
    "check_mappings",
    "followup_fingerprint",
    "load_mapping",
]
