"""The ``bridge`` command: the typer app, its sub-commands, and the one error handler.

The commands live one group to a module beside this one (``run``, ``status``, ``demo``,
``mapping``, ``backfill``, ``metrics``, ``quarantine``, ``review``, ``ledger``); they
import only ``options``, ``common`` and ``render``, and this module registers them.
Typer needs every command's signature to build the app, so the command modules are
imported here; what a command needs to *run* (the ledger, the engine, the configuration
loader, SQLAlchemy) each imports inside its function, so ``bridge --version`` and
``--help`` start in a fraction of the time (``tests/cli/test_cli_imports.py``).

Every error the bridge raises on purpose reaches ``main`` and becomes a message
saying what to do next, with a meaningful exit code; tracebacks only with --debug.

Exit codes: 0 done; 1 a route failed this cycle (see the message and the ledger);
2 the configuration or a mapping file is wrong; 3 another bridge error;
130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from bridge import __version__
from bridge.cli.backfill import backfill
from bridge.cli.demo import demo, simulate
from bridge.cli.doctor import doctor
from bridge.cli.ledger import ledger_app
from bridge.cli.mapping import mapping_app
from bridge.cli.metrics import metrics
from bridge.cli.privacy import privacy_app
from bridge.cli.quarantine import quarantine_app
from bridge.cli.render import err, out
from bridge.cli.review import review_app
from bridge.cli.review_duplicates import COMMANDS as DUPLICATE_COMMANDS
from bridge.cli.run import run, sync
from bridge.cli.sla import sla
from bridge.cli.status import status, trace
from bridge.errors import BridgeError, ConfigError
from bridge.log import failure_reason

app = typer.Typer(
    name="bridge",
    help="Sync public-service complaints between SP4N-LAPOR! and local complaint systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"lapor-bridge {__version__}", markup=False, highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def version() -> None:
    """Print the bridge's version."""
    out.print(f"lapor-bridge {__version__}")


# The order here is the order `bridge --help` lists them in.
app.command("run")(run)
app.command("sync")(sync)
app.command("status")(status)
app.command("trace")(trace)
app.command("demo")(demo)
app.command("simulate")(simulate)
app.command("backfill")(backfill)
app.command("metrics")(metrics)
app.command("doctor")(doctor)
app.command("sla")(sla)
app.add_typer(mapping_app, name="mapping")
app.add_typer(quarantine_app, name="quarantine")
for name, command in DUPLICATE_COMMANDS.items():
    review_app.command(name)(command)
app.add_typer(review_app, name="review")
app.add_typer(ledger_app, name="ledger")
app.add_typer(privacy_app, name="privacy")


def main() -> None:
    """Entry point of the ``bridge`` console script."""
    try:
        code = app(prog_name="bridge", standalone_mode=False)
    except typer.TyperException as exc:  # a usage error: the command line is wrong
        show = getattr(exc, "show", None)  # usage errors print the usage line and a hint
        if callable(show):
            show()
        else:
            err.print(exc.format_message(), markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("Interrupted.")
        sys.exit(130)
    except ConfigError as exc:
        _fail(exc, f"{exc}\nFix the problem(s) above, then run the command again.", 2)
    except BridgeError as exc:
        _fail(exc, f"{type(exc).__name__}: {exc}", 3)
    except Exception as exc:  # noqa: BLE001 - a bug still gets one line, not a traceback
        hint = "this is a bug in the bridge: run the command again with --debug and report it"
        _fail(exc, f"{failure_reason(exc)}\n{hint}", 3)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(exc: BaseException, message: str, code: int) -> NoReturn:
    if _state["debug"]:
        err.print_exception()
    err.print("[red]error:[/red] ", end="")
    # Messages quote file keys like [fields.title]: print them literally, not as markup.
    err.print(message, markup=False, highlight=False)
    sys.exit(code)
