"""The CLI package's import rule: command modules import only the shared CLI modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import bridge.cli

PACKAGE = Path(bridge.cli.__file__).parent
SHARED = {"bridge.cli.options", "bridge.cli.common", "bridge.cli.render", "bridge.cli.as_json"}


def _cli_imports(path: Path) -> set[str]:
    """The ``bridge.cli`` modules a file imports, wherever in the file the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if name == "bridge.cli" or name.startswith("bridge.cli.")}
    return found


def test_command_modules_import_only_options_common_and_render() -> None:
    """No command module imports another one or the app: the app registers them, one way."""
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem in {"__init__", "app"} or f"bridge.cli.{path.stem}" in SHARED:
            continue
        assert _cli_imports(path) <= SHARED, path.name


def test_the_shared_modules_import_no_command_module() -> None:
    """The shared modules are the CLI's leaves: they import one another at most, and only
    common imports render (to show times in the agency's zone once the settings are read)."""
    allowed = {"bridge.cli.common": {"bridge.cli.render"}}
    for name in sorted(SHARED):
        found = _cli_imports(PACKAGE / f"{name.rsplit('.', 1)[1]}.py")
        assert found <= allowed.get(name, set()), name


def test_building_the_app_imports_no_ledger_engine_or_database_library() -> None:
    """`bridge --version` and `--help` load only the CLI: the commands import the ledger, the
    engine, the configuration loader and SQLAlchemy when they run (about 1 s of start-up)."""
    heavy = ["sqlalchemy", "alembic", "bridge.ledger", "bridge.sync", "bridge.daemon"]
    heavy += ["bridge.config", "bridge.mapping", "httpx"]
    code = "import sys, bridge.cli.app; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [m for m in loaded if any(m == h or m.startswith(f"{h}.") for h in heavy)] == []
