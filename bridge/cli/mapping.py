"""``bridge mapping``: check mapping files, and try one on a native record."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bridge.cli.common import load_settings
from bridge.cli.options import ConfigOption
from bridge.cli.render import err, out
from bridge.errors import ConfigError

if TYPE_CHECKING:
    from bridge.connector import Connector
    from bridge.mapping import Mapping

mapping_app = typer.Typer(
    help="Check mapping files and try them on a record.", no_args_is_help=True
)


@mapping_app.command("check")
def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Mapping files (default: every mappings/*.toml)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Check references to [agency] against this configuration's values "
            "(without it only their keys are checked).",
        ),
    ] = None,
) -> None:
    """Validate mapping files; every problem is listed with its key and the fix."""
    from bridge.mapping import CHECK_ONLY, check_mappings

    paths = files or sorted(Path("mappings").glob("*.toml"))
    if not paths:
        raise ConfigError(["no mapping files found: pass their paths, or run from the repo root"])
    agency = CHECK_ONLY
    if config is not None:
        agency = load_settings(config, log_format="console").agency.model_dump()
    problems = check_mappings(paths, agency)
    for path, found in problems.items():
        if found:
            err.print(f"[red]✗[/red] {path}")
            for problem in found:
                # markup off: problems name sections, such as [agency], in brackets
                err.print(f"    - {problem}", markup=False, highlight=False)
        else:
            out.print(f"[green]✓[/green] {path}")
    raise typer.Exit(2 if any(problems.values()) else 0)


@mapping_app.command("try")
def try_(
    mapping: Annotated[Path, typer.Argument(help="The mapping file.")],
    record: Annotated[Path, typer.Argument(help="A native record as a JSON file.")],
) -> None:
    """Print the canonical complaint a native record becomes, and the record it maps back to.

    A value taken from [agency] shows as its stand-in, e.g. "<[agency] name>".
    """
    from bridge.mapping import CHECK_ONLY, load_mapping

    loaded = load_mapping(mapping, CHECK_ONLY)
    try:
        native = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{record}: cannot read it as JSON ({exc})"]) from None
    complaint = loaded.to_canonical(native)
    out.print("[bold]Canonical complaint[/bold]")
    out.print_json(complaint.model_dump_json(exclude={"attachments": {"__all__": {"content"}}}))
    out.print("[bold]Mapped back to the native record[/bold]")
    out.print_json(json.dumps(loaded.to_native(complaint), ensure_ascii=False, default=str))


@mapping_app.command("codes")
def codes(
    connector: Annotated[str, typer.Argument(help="The connector whose records are read.")],
    config: ConfigOption = None,
    limit: Annotated[
        int, typer.Option(help="Read at most this many records (newest pages are not sought).")
    ] = 5000,
) -> None:
    """List the codes a connector's records carry that its mapping does not map, with counts.

    Read-only: one pull from the start, nothing written. The output is TOML to paste into
    the mapping's [values.NAME] tables, each code's canonical value left for you to fill.
    """
    from bridge.config.settings import build_connector
    from bridge.mapping import load_mapping

    settings = load_settings(config, log_format="console")
    mapping_path = settings.connector_settings(connector).mapping
    if not mapping_path:
        raise ConfigError([f"connectors.{connector}.mapping is missing: name its mapping file"])
    loaded = load_mapping(mapping_path, settings.agency.model_dump())
    seen, read = count_unmapped(build_connector(settings, connector), loaded, limit)
    out.print(f"# {read} records of {connector} read; codes {mapping_path} does not map:")
    if not seen:
        out.print("# none: every code seen is mapped")
    for table in sorted({t for t, _ in seen}):
        out.print(f"[values.{table}]", markup=False, highlight=False)
        for (t, code), n in seen.most_common():
            if t == table:
                line = (
                    f'"{code}" = ""   # seen {n} time{"s" if n != 1 else ""}: its canonical value'
                )
                out.print(line, markup=False, highlight=False)


def count_unmapped(
    source: Connector, mapping: Mapping, limit: int
) -> tuple[Counter[tuple[str, str]], int]:
    """(value table, code) counts over at most ``limit`` pulled records, and how many were read."""
    seen: Counter[tuple[str, str]] = Counter()
    read = 0
    try:
        for page in source.pull(None):
            for record in page:
                seen.update(mapping.unmapped_codes(record))
                read += 1
                if read >= limit:
                    return seen, read
    finally:
        source.close()
    return seen, read


@mapping_app.command("suggest")
def suggest_mapping(
    sql: Annotated[
        str,
        typer.Option(
            "--sql",
            help="The app's database: mysql://user@host:3306/db or postgresql://user@host/db "
            "(a read-only user is enough; the password from $BRIDGE_SQL_PASSWORD).",
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--out", help="Write the draft here (default: print it).")
    ] = None,
) -> None:
    """Write a commented draft mapping for a local app's database (read-only).

    Every guess is marked `# GUESS:`, every decision left to you `# EDIT:`; the draft
    passes `bridge mapping check` as written.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from bridge.connectors.sql_suggest_draft import suggest

    try:
        written = suggest(sql, os.environ.get("BRIDGE_SQL_PASSWORD"))
    except ValueError as exc:
        raise ConfigError([f"--sql: {exc}"]) from None
    except SQLAlchemyError as exc:
        # The driver's own words (no password: it is never in the URL given here).
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise ConfigError(
            [
                f"--sql: cannot read the schema ({reason}); check the URL, that the server is "
                "up, and $BRIDGE_SQL_PASSWORD"
            ]
        ) from None
    if output is None:
        out.print(written.text, markup=False, highlight=False, end="")
    else:
        output.write_text(written.text, encoding="utf-8")
        out.print(f"[green]✓[/green] draft written to {output}")
    err.print(f"{written.guesses} guesses to read, {written.edits} edits asked for")
