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

Times: naive native times get ``timezone``; times with an offset keep theirs. Dates
outside the years 1990 to 2100 are rejected as typos.
"""

from __future__ import annotations

from bridge.mapping._compile import FieldPaths
from bridge.mapping._mapping import Mapping, check_mappings, load_mapping

__all__ = ["FieldPaths", "Mapping", "check_mappings", "load_mapping"]
