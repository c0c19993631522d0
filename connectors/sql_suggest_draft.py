"""The draft mapping ``sql_suggest`` writes: one section at a time, every guess marked."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import create_engine

from .sql_suggest import (
    ANONYMOUS,
    COMPLAINT_TABLES,
    CONTENT,
    CREATED,
    EMAIL,
    NAME,
    NIK,
    PHONE,
    REPORTER_TABLES,
    RESPONSE_TABLES,
    RESPONSE_TEXT,
    SECRET,
    STATUS,
    STATUS_WORDS,
    TITLE,
    UPDATED,
    Draft,
    Schema,
    pick,
    q,
)
from .sql_values import database_url


class Join(NamedTuple):
    """The reporter's table: ``complaint.local = table.remote``."""

    table: str
    local: str
    remote: str


class Responses(NamedTuple):
    """The answers' table, its key to the complaint, its id, text and time columns."""

    table: str
    foreign_key: str
    id_column: str
    text: str
    order_by: str | None


def suggest(url: str, password: str | None = None) -> Draft:
    """The draft mapping for the database at ``url`` (read-only)."""
    engine = create_engine(database_url(url, password, "--sql"))
    try:
        return draft(Schema(engine), url)
    finally:
        engine.dispose()


def draft(schema: Schema, url: str) -> Draft:
    """The whole draft for ``schema``; ``url`` only names the database in the header."""
    out = Draft()
    table = pick(_not_responses(schema.tables), COMPLAINT_TABLES)
    if table is None:
        raise ValueError(
            f"no complaint table among {', '.join(schema.tables) or 'no tables'}: name it with "
            "--table (one of pengaduan, complaints, laporan, … is looked for)"
        )
    columns = schema.names(table)
    key = schema.primary_key(table) or pick(columns, ("id",)) or columns[0]
    updated = pick(columns, UPDATED)
    framework = _framework(columns)
    _header(out, schema, url, table, framework)
    _mapping(out, schema, framework, key, updated)
    join = _reporter(schema, table, columns)
    responses = _responses(schema, table, key)
    _transport(out, table, key, updated, join, responses, columns)
    status = pick(columns, STATUS)
    _fields(out, schema, table, columns, status, join)
    if status is not None:
        _status_values(out, schema.status_values(table, status))
    if responses is not None:
        _followups(out, responses)
    return out


def _not_responses(tables: list[str]) -> list[str]:
    return [t for t in tables if pick([t], RESPONSE_TABLES) is None]


def _framework(columns: list[str]) -> str:
    if "createdAt" in columns or "updatedAt" in columns:
        return "prisma"
    if "created_at" in columns and "updated_at" in columns:
        return "laravel-or-codeigniter"
    return "native"


def _header(out: Draft, schema: Schema, url: str, table: str, framework: str) -> None:
    name = schema.engine.url.database or "?"
    out.add(f"# Draft mapping written by `bridge mapping suggest` from database {name!r}")
    out.add(f"# ({schema.engine.url.get_backend_name()}), complaint table {table!r}.")
    out.add("# Read every GUESS and do every EDIT, then run `bridge mapping check` on this file.")
    out.add(f"# Schema family: {framework}. Nothing here is SQL; names only.")
    out.add()


def _mapping(out: Draft, schema: Schema, framework: str, key: str, updated: str | None) -> None:
    out.add("[mapping]")
    out.add(f"system = {q(str(schema.engine.url.database or 'local-app'))}")
    if framework == "native":
        out.add('timezone = "Asia/Jakarta"', guess="a native PHP app writes local time (WIB)")
    else:
        why = "Laravel writes in APP_TIMEZONE (UTC unless changed), Prisma always in UTC"
        out.add('timezone = "UTC"', guess=f"{why}; `bridge doctor` names a wrong zone")
    out.add('date_formats = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]')
    out.add(f"id = {q(key)}")
    if updated is not None:
        out.add(f"updated_at = {q(updated)}")
    out.add()


def _reporter(schema: Schema, table: str, columns: list[str]) -> Join | None:
    for fk in schema.foreign_keys(table):
        if (
            pick([str(fk["referred_table"])], REPORTER_TABLES)
            and len(fk["constrained_columns"]) == 1
        ):
            local, remote = fk["constrained_columns"][0], fk["referred_columns"][0]
            return Join(str(fk["referred_table"]), str(local), str(remote))
    reporters = [t for t in schema.tables if t != table and pick([t], REPORTER_TABLES)]
    for other in reporters:
        names = schema.names(other)
        shared = pick(columns, NIK)
        if shared and pick(names, NIK):
            return Join(other, shared, str(pick(names, NIK)))
        local = pick(columns, ("userid", "idmasyarakat", "masyarakatid", "pelaporid"))
        remote = schema.primary_key(other)
        if local and remote:
            return Join(other, local, remote)
    return None


def _responses(schema: Schema, table: str, key: str) -> Responses | None:
    for other in schema.tables:
        if other == table or pick([other], RESPONSE_TABLES) is None:
            continue
        names = schema.names(other)
        fk = next(
            (
                str(f["constrained_columns"][0])
                for f in schema.foreign_keys(other)
                if f["referred_table"] == table and len(f["constrained_columns"]) == 1
            ),
            None,
        ) or pick(names, (f"id{table.lower()}", f"{table.lower()}id", "idpengaduan", "complaintid"))
        text = pick(names, RESPONSE_TEXT)
        own = schema.primary_key(other)
        if fk and text and own:
            order = pick(names, ("tgltanggapan", *CREATED))
            return Responses(other, fk, own, text, order)
    return None


def _transport(
    out: Draft,
    table: str,
    key: str,
    updated: str | None,
    join: Join | None,
    responses: Responses | None,
    columns: list[str],
) -> None:
    out.add("[transport]")
    out.add(f"table = {q(table)}")
    out.add(f"id_column = {q(key)}")
    if updated is not None:
        out.add(f"updated_at_column = {q(updated)}")
    else:
        out.add("# No update-time column: every pull reads the whole table and the bridge finds")
        out.add("# changes by comparing content. Adding one (and naming it here) is cheaper.")
    if pick(columns, ("deletedat",)):
        out.add(guess="soft-deleted rows (deleted_at set) are read like the others")
    if join is not None:
        out.add()
        out.add("[[transport.joins]]", guess="the reporter's table, joined one-to-one")
        out.add(f"table = {q(join.table)}")
        out.add(f"on = {{ {q(join.local)} = {q(join.remote)} }}")
        out.add('prefix = "pelapor"')
    if responses is not None:
        out.add()
        out.add("[transport.responses]", guess="the officers' answers, one-to-many")
        out.add(f"table = {q(responses.table)}")
        out.add(f"foreign_key = {q(responses.foreign_key)}")
        out.add(f"id_column = {q(responses.id_column)}")
        if responses.order_by is not None:
            out.add(f"order_by = {q(responses.order_by)}")
        out.add('key = "responses"')
        out.add("writable = false", guess="true lets the bridge INSERT LAPOR!'s answers here")
    out.add()


def _fields(
    out: Draft,
    schema: Schema,
    table: str,
    columns: list[str],
    status: str | None,
    join: Join | None,
) -> None:
    out.add("[fields]")
    title = pick(columns, TITLE)
    if title is not None:
        out.add(f"title = {q(title)}")
    content = pick(columns, CONTENT) or _longest_text(schema, table)
    out.add(f"content = {q(content)}", guess=None if pick(columns, CONTENT) else "longest text")
    created = pick(columns, CREATED)
    if created is not None:
        out.add(f"created_at = {{ read = {q(created)}, write = false }}")
    if status is not None:
        out.add(f'status = {{ path = {q(status)}, map = "status" }}')
    for canonical, names, why in (
        ("is_anonymous", ANONYMOUS, "the reporter asked to stay anonymous (anonim)"),
        ("is_secret", SECRET, "the complaint is confidential (rahasia)"),
    ):
        found = pick(columns, names)
        if found is not None:
            out.add(f"{canonical} = {q(found)}", guess=f"{why}; yes is 1/true")
    secret = pick(columns, SECRET)
    if join is not None:
        _reporter_fields(out, schema, join)
    out.add()
    out.add("[required]")
    out.add('fields = ["content"]')
    out.add()
    out.add("[defaults]")
    out.add('title = "Pengaduan masyarakat"')
    out.add('category = "lainnya"', guess="the app has no categories LAPOR! knows")
    out.add(f"channel = {q(str(schema.engine.url.database or 'local-app'))}")
    if secret is None:
        # A missing rahasia flag reads as rahasia (fail closed), which would withhold every
        # complaint from LAPOR!: an app with no such column says so, as pengaduan-php.toml does.
        out.add("is_secret = false", guess="no rahasia column: no complaint is confidential")
    out.add()


def _reporter_fields(out: Draft, schema: Schema, join: Join) -> None:
    names = schema.names(join.table)
    for canonical, wanted in (
        ("reporter.name", NAME),
        ("reporter.phone", PHONE),
        ("reporter.email", EMAIL),
        ("reporter.nik", NIK),
    ):
        found = pick(names, wanted)
        if found is not None:
            out.add(f'"{canonical}" = {{ read = {q("pelapor." + found)}, write = false }}')


def _longest_text(schema: Schema, table: str) -> str:
    def size(column: dict[str, Any]) -> int:
        length = getattr(column["type"], "length", None)
        return 1 << 30 if length is None and "TEXT" in str(column["type"]).upper() else length or 0

    return str(max(schema.columns[table], key=size)["name"])


def _status_values(out: Draft, values: list[str]) -> None:
    out.add("[values.status]", guess="the first code listed for a status is the one written")
    if not values:
        out.add('"0" = "new"', edit="no status value is in the table yet: list the app's codes")
    for value in values:
        canonical = next((c for c, words in STATUS_WORDS.items() if value.lower() in words), None)
        if canonical is None:
            out.add(f'{q(value)} = "new"', edit=f"what does {value!r} mean? a canonical status")
        else:
            out.add(f"{q(value)} = {q(canonical)}")
    out.add()


def _followups(out: Draft, responses: Responses) -> None:
    out.add("[followups]")
    out.add(f"id = {q(responses.id_column)}")
    out.add('in_record = "responses"')
    out.add()
    out.add("[followups.fields]")
    out.add(f"content = {q(responses.text)}")
    if responses.order_by is not None:
        out.add(f"created_at = {{ read = {q(responses.order_by)}, write = false }}")
    out.add()
    out.add("[followups.required]")
    out.add('fields = ["content"]')
    out.add()
    out.add("[followups.defaults]")
    out.add("is_official = true", guess="only officers write answers")
