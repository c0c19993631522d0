"""``bridge ledger``: looking after the ledger itself.

``backup`` and ``restore`` copy the ledger (``bridge.ledger.backup``); ``accept`` takes
the configured ledger as the one to use after the bridge refused it as lost, replaced or
older than the one it last wrote to (``bridge.daemon.ledger_guard``). Both a restore and an
accept make every route look records up by reference before creating anything again.

``rebuild`` links again, by the references both systems carry, the records a lost or
replaced ledger no longer knows: a dry run first (what it would link, and what the next
sync would send because the target does not have it), then ``--apply``, which links and
creates nothing.

``rename-system`` is how a connector is renamed safely. The ledger knows each system
by its connector's name, and a complaint's reference is derived from it, so a name
changed in the configuration alone would make every record look new and send it
again; the bridge refuses to start in that state (``bridge.sync.check_systems``).
Run it with every bridge stopped, after renaming the connector in the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bridge.cli.common import cycle_each, load_settings, open_dry_run_ledger
from bridge.cli.options import ConfigOption, RouteOption
from bridge.cli.render import err, out, rebuild_table
from bridge.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from bridge.config import BridgeConfig
    from bridge.ledger import Ledger

ledger_app = typer.Typer(
    help="Look after the ledger: back it up, restore it, accept a new one, rebuild its links, "
    "rename a system.",
    no_args_is_help=True,
)


@ledger_app.command("rename-system")
def rename_system(
    old: Annotated[str, typer.Argument(metavar="OLD", help="The connector's former name.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its name in the configuration now.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
    config: ConfigOption = None,
) -> None:
    """Move everything the ledger remembers of system OLD to the name NEW.

    Rename the connector in the configuration file first, stop every bridge using this
    ledger, run this, then start them again.
    """
    from bridge.ledger import Ledger, SystemNameTaken

    settings = load_settings(config, log_format="console")
    if new not in settings.connectors:
        raise ConfigError(
            [f"no connector named {new!r}: rename [connectors.{old}] to [connectors.{new}] first"],
            source="bridge ledger rename-system",
        )
    ledger = Ledger.open(settings.ledger.url)
    try:
        linked = ledger.systems.linked().get(old, 0)
        if not linked:
            err.print(f"The ledger holds no linked record of system {old!r}: nothing to rename.")
            raise typer.Exit(1)
        _refuse_while_held(ledger)
        if not yes:
            question = f"Rename system {old!r} ({linked} linked records) to {new!r}?"
            typer.confirm(question, abort=True)
        try:
            changed = ledger.systems.rename(old, new)
        except SystemNameTaken as exc:
            err.print(
                f"Not renamed: {exc}. The bridge already ran under the new name; the two "
                "cannot be merged by a rename. Check the target system for doubles first.",
                markup=False,
            )
            raise typer.Exit(1) from None
    finally:
        ledger.close()
    out.print(f"Renamed {old!r} to {new!r} in the ledger:", markup=False)
    for place, count in sorted(changed.items()):
        out.print(f"  {place}: {count}", markup=False)


@ledger_app.command("accept")
def accept_(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
    config: ConfigOption = None,
) -> None:
    """Use the configured ledger from now on, after the bridge refused it as lost or old.

    Every route's next cycle then looks each record up by the bridge's reference before
    creating it, so complaints the ledger no longer remembers are adopted, not doubled.
    """
    from bridge.daemon import accept, read_state, state_path
    from bridge.ledger import Ledger

    settings = load_settings(config, log_format="console")
    ledger = Ledger.open(settings.ledger.url)
    try:
        current = ledger.identity()
        seen = read_state(state_path(settings))
        if seen is not None:
            out.print(
                f"The bridge last wrote to ledger {seen.ledger_id} (generation "
                f"{seen.generation}) at {seen.url}.",
                markup=False,
            )
        out.print(
            f"The ledger at {ledger.url_for_display} is {current.ledger_id} (generation "
            f"{current.generation}). Accepting it makes every route re-check the other "
            "side by reference before creating anything.",
            markup=False,
        )
        if not yes:
            typer.confirm("Accept this ledger?", abort=True)
        cleared = accept(ledger, settings)
    finally:
        ledger.close()
    out.print(
        f"Accepted. {cleared} route(s) will look records up again; start the bridge now.",
        markup=False,
    )


@ledger_app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The copy to write (new file).")],
    config: ConfigOption = None,
) -> None:
    """Copy the ledger to FILE, safely while the daemon runs (SQLite).

    For PostgreSQL, print the pg_dump and pg_restore commands to use instead.
    """
    from bridge.ledger import Ledger
    from bridge.ledger.backup import backup_sqlite

    settings = load_settings(config, log_format="console")
    path = _sqlite_path(settings, file)
    if path is None:
        return
    Ledger.open(settings.ledger.url, create=False).close()  # exists, readable, never created
    backup_sqlite(path, file)
    out.print(f"Backed up the ledger to {file}. Restore it with: bridge ledger restore FILE")


@ledger_app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A `bridge ledger backup` copy.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to confirm.")] = False,
    config: ConfigOption = None,
) -> None:
    """Replace the ledger with a backup (SQLite), with every bridge using it stopped.

    A backup misses what was sent after it was made: every route's next cycle looks each
    record up by the bridge's reference before creating it, so nothing is sent twice.
    """
    from bridge.daemon import accept
    from bridge.ledger import Ledger
    from bridge.ledger.backup import check_is_ledger, restore_sqlite

    settings = load_settings(config, log_format="console")
    path = _sqlite_path(settings, file)
    if path is None:
        return
    check_is_ledger(file)
    if path.exists():
        with Ledger.open(settings.ledger.url) as current:
            _refuse_while_held(current)
    if not yes:
        typer.confirm(f"Replace the ledger {path} with {file}?", abort=True)
    restore_sqlite(file, path)
    with Ledger.open(settings.ledger.url) as restored:  # migrates an older copy
        accept(restored, settings)
    out.print(
        f"Restored {path} from {file}. Every route's next cycle looks records up by "
        "reference before creating anything.",
        markup=False,
    )


def _sqlite_path(settings: BridgeConfig, file: Path) -> Path | None:
    """The ledger's file; for PostgreSQL None, once the commands to use are printed."""
    from bridge.ledger.db import normalise_url, sqlite_file

    url = normalise_url(settings.ledger.url)
    if url.get_backend_name() != "sqlite":
        _print_pg_commands(url, file, settings)
        return None
    path = sqlite_file(url)
    if path is None:
        raise ConfigError(
            ["`ledger.url` names an in-memory SQLite ledger: there is no file to copy"],
            source="bridge ledger",
        )
    return path


def _print_pg_commands(url: URL, file: Path, settings: BridgeConfig) -> None:
    from bridge.ledger.backup import pg_commands

    dump, load = pg_commands(url, file, str(settings.path))
    out.print("The ledger is a PostgreSQL database; copy it with PostgreSQL's own tools.")
    out.print("Set PGPASSWORD (or use ~/.pgpass) for the password, then back up with:")
    out.print(f"  {dump}", markup=False, highlight=False, soft_wrap=True)
    out.print("and restore, with every bridge stopped, with:")
    out.print(f"  {load}", markup=False, highlight=False, soft_wrap=True)


def _refuse_while_held(ledger: Ledger) -> None:
    now = datetime.now(UTC)
    busy = [lease for lease in ledger.leases.listed() if not lease.is_free(now)]
    for lease in busy:
        err.print(
            f"Route {lease.route} is held by {lease.holder} until {lease.expires_at}: "
            "stop every bridge using this ledger first.",
            markup=False,
        )
    if busy:
        raise typer.Exit(1)


@ledger_app.command("rebuild")
def rebuild(
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the links (default: only show them).")
    ] = False,
    route: RouteOption = None,
    config: ConfigOption = None,
) -> None:
    """Link again, by the bridge's references, what a lost or replaced ledger no longer knows.

    Every route reads its source whole and looks each record the ledger does not know up in
    its target by reference. Without --apply nothing is written anywhere. With --apply the
    copies found are linked and nothing is created: what the target does not have is sent by
    the next `bridge sync` or `bridge run`, after one more look-up.
    """
    from bridge.daemon import open_for_cycles
    from bridge.sync import CycleOptions, build_routes, close_routes

    settings = load_settings(config, log_format="console")
    ledger = open_for_cycles(settings) if apply else open_dry_run_ledger(settings.ledger.url)
    routes = build_routes(settings, ledger, only=route)
    options = CycleOptions(
        dry_run=not apply,
        adopting=True,
        link_only=apply,
        linked_sync=False,
        respect_pause=False,
        keep_lines=False,
    )
    try:
        reports, held = cycle_each(routes, ledger, options, settings.daemon.lease_seconds)
    finally:
        close_routes(routes)
        ledger.close()
    for message in held:
        err.print(message, markup=False, highlight=False)
    out.print(rebuild_table(reports, apply))
    for report in reports:
        if report.error:
            err.print(f"{report.route}: {report.error}", markup=False, highlight=False)
    if not apply:
        out.print("Nothing was written. Run again with --apply to link them.", markup=False)
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)
