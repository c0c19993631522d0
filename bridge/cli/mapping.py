"""``bridge mapping``: check mapping files, and try one on a native record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bridge.cli.render import err, out
from bridge.errors import ConfigError
from bridge.mapping import check_mappings, load_mapping

mapping_app = typer.Typer(
    help="Check mapping files and try them on a record.", no_args_is_help=True
)


@mapping_app.command("check")
def check(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Mapping files (default: every mappings/*.toml)."),
    ] = None,
) -> None:
    """Validate mapping files; every problem is listed with its key and the fix."""
    paths = files or sorted(Path("mappings").glob("*.toml"))
    if not paths:
        raise ConfigError(["no mapping files found: pass their paths, or run from the repo root"])
    problems = check_mappings(paths)
    for path, found in problems.items():
        if found:
            err.print(f"[red]✗[/red] {path}")
            for problem in found:
                err.print(f"    - {problem}")
        else:
            out.print(f"[green]✓[/green] {path}")
    raise typer.Exit(2 if any(problems.values()) else 0)


@mapping_app.command("try")
def try_(
    mapping: Annotated[Path, typer.Argument(help="The mapping file.")],
    record: Annotated[Path, typer.Argument(help="A native record as a JSON file.")],
) -> None:
    """Print the canonical complaint a native record becomes, and the record it maps back to."""
    loaded = load_mapping(mapping)
    try:
        native = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{record}: cannot read it as JSON ({exc})"]) from None
    complaint = loaded.to_canonical(native)
    out.print("[bold]Canonical complaint[/bold]")
    out.print_json(complaint.model_dump_json(exclude={"attachments": {"__all__": {"content"}}}))
    out.print("[bold]Mapped back to the native record[/bold]")
    out.print_json(json.dumps(loaded.to_native(complaint), ensure_ascii=False, default=str))
