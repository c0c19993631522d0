"""Layer rules: which parts of lapor-bridge may import which.

The rules are read from the source with `ast`, so nothing is imported and an import inside a
function or under `TYPE_CHECKING` counts as much as one at the top of a module. `make lint` and
the pre-commit hook run this file.

1. The leaves (errors, model, lifecycle, privacy: whichever exist) import no other part of the
   bridge, except one another.
2. Connectors never import the mapping, the ledger or the sync engine: they speak transports.
3. Nothing imports the CLI but the CLI itself and `bridge/__main__.py`: only the CLI prints.
4. Only the CLI and `bridge.demo` import `bridge.testing`: the daemon must run on an install
   without the `simulators` extra (and without pytest).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bridge", "connectors")  # the installed code; tests and benches may import anything

LEAVES = ("bridge.errors", "bridge.model", "bridge.lifecycle", "bridge.privacy")
CONNECTORS = ("connectors", "bridge.connectors")
ENGINE = ("bridge.sync", "bridge.daemon")  # the sync engine, and the daemon that runs it
NOT_FOR_CONNECTORS = ("bridge.mapping", "bridge.ledger", *ENGINE)
CLI_ENTRY_POINTS = ("bridge.__main__",)
TESTING = "bridge.testing"
TESTING_USERS = ("bridge.demo",)  # besides the CLI (demo, simulate) and bridge.testing itself

# Known violations accepted for a while, as (importing module, what it reaches): none since
# issue 16. An entry that no longer occurs fails the allow-list test below.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Violation:
    importer: str
    reached: str  # the layer (or module) the import reaches
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} imports {self.reached}: {self.rule}"


def within(name: str, prefix: str) -> bool:
    """Whether the dotted `name` is the module `prefix` or something inside it."""
    return name == prefix or name.startswith(prefix + ".")


def is_internal(name: str) -> bool:
    return any(within(name, top) for top in SOURCES)


def is_cli(name: str) -> bool:
    return within(name, "bridge.cli") or name.startswith("bridge.cli_")


def module_name(path: Path) -> str:
    """`bridge/ledger/__init__.py` → `bridge.ledger`; `connectors/sql.py` → `connectors.sql`."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every dotted name `module` imports: `from a import b` gives `a.b`, b module or not.

    Naming the imported attribute too lets a rule on a module match both `from bridge import
    ledger` and `from bridge.ledger import Ledger`.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: level 1 is this module's package, 2 its parent, …
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.update(
                base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names
            )
    return names


def import_graph() -> dict[str, set[str]]:
    """The internal imports of every module of the installed code."""
    graph = {}
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            module = module_name(path)
            found = imported_names(
                path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py"
            )
            graph[module] = {name for name in found if is_internal(name)}
    return graph


def _first(name: str, layers: Iterable[str]) -> str | None:
    return next((layer for layer in layers if within(name, layer)), None)


def leaf_violations(graph: dict[str, set[str]]) -> list[Violation]:
    rule = "a leaf imports no other part of the bridge, except another leaf"
    return [
        Violation(importer, ".".join(name.split(".")[:2]), rule)
        for importer, names in graph.items()
        if _first(importer, LEAVES)
        for name in names
        if not _first(name, LEAVES)
    ]


def connector_violations(graph: dict[str, set[str]]) -> list[Violation]:
    rule = "connectors never import the mapping, the ledger or the sync engine"
    return [
        Violation(importer, reached, rule)
        for importer, names in graph.items()
        if _first(importer, CONNECTORS)
        for name in names
        if (reached := _first(name, NOT_FOR_CONNECTORS))
    ]


def cli_violations(graph: dict[str, set[str]]) -> list[Violation]:
    rule = "nothing imports the CLI but the CLI and bridge/__main__.py"
    return [
        Violation(importer, "bridge.cli", rule)
        for importer, names in graph.items()
        if not is_cli(importer) and importer not in CLI_ENTRY_POINTS
        for name in names
        if is_cli(name)
    ]


def helper_violations(graph: dict[str, set[str]]) -> list[Violation]:
    rule = "only the CLI and bridge.demo import the test helpers"
    return [
        Violation(importer, TESTING, rule)
        for importer, names in graph.items()
        if not (is_cli(importer) or within(importer, TESTING) or importer in TESTING_USERS)
        for name in names
        if within(name, TESTING)
    ]


# Nothing reaches up the house (configuration, mapping, ledger < sync engine < daemon < CLI).
ABOVE = {
    "bridge.sync": ("bridge.daemon",),
    "bridge.ledger": ("bridge.sync", "bridge.daemon"),
    "bridge.mapping": ("bridge.sync", "bridge.daemon", "bridge.ledger"),
    "bridge.config": ("bridge.sync", "bridge.daemon"),
}


def upward_violations(graph: dict[str, set[str]]) -> list[Violation]:
    rule = "a lower layer never imports a higher one"
    return [
        Violation(importer, reached, rule)
        for importer, names in graph.items()
        if (layer := _first(importer, ABOVE))
        for name in names
        if (reached := _first(name, ABOVE[layer]))
    ]


RULES = {
    "leaves": leaf_violations,
    "connectors": connector_violations,
    "cli": cli_violations,
    "test helpers": helper_violations,
    "upward": upward_violations,
}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


@pytest.mark.parametrize("rule", RULES)
def test_layer_rule_holds(graph: dict[str, set[str]], rule: str) -> None:
    """No module breaks the rule, apart from the known violations in ALLOWED."""
    broken = [v for v in RULES[rule](graph) if (v.importer, v.reached) not in ALLOWED]
    assert not broken, "\n".join(map(str, broken))


def test_allow_list_holds_only_violations_that_still_occur(graph: dict[str, set[str]]) -> None:
    """An entry of ALLOWED whose violation is gone must be deleted, so the list only shrinks."""
    occurring = {(v.importer, v.reached) for check in RULES.values() for v in check(graph)}
    stale = sorted(ALLOWED - occurring)
    assert not stale, f"these violations are gone; remove them from ALLOWED: {stale}"


def test_the_rules_see_the_code(graph: dict[str, set[str]]) -> None:
    """The scan finds the leaves, connectors and CLI, so no rule passes for want of modules."""
    assert {"bridge.errors", "bridge.model"} <= graph.keys()
    assert any(_first(module, CONNECTORS) for module in graph)
    assert any(is_cli(module) for module in graph)


def test_imports_are_read_wherever_they_are_written() -> None:
    """Relative, function-level and TYPE_CHECKING imports are all resolved to full names."""
    source = """
from typing import TYPE_CHECKING
from . import errors
from ..ledger import Ledger
if TYPE_CHECKING:
    from bridge.sync import Route
def later():
    import bridge.cli_common
"""
    names = imported_names(source, "bridge.connectors.sql", is_package=False)
    assert {"bridge.connectors.errors", "bridge.ledger.Ledger", "bridge.sync.Route"} <= names
    assert "bridge.cli_common" in names
    assert imported_names("from .x import y", "bridge.privacy", is_package=True) == {
        "bridge.privacy.x.y"
    }


def test_each_rule_reports_what_breaks_it() -> None:
    """A made-up graph breaking each rule once gives one violation per rule."""
    graph = {
        "bridge.errors": {"bridge.config.Settings"},
        "bridge.model": {"bridge.errors.ConfigError"},  # leaf to leaf: allowed
        "connectors.rest": {"bridge.ledger.Ledger", "bridge.http.make_client"},
        "bridge.health": {"bridge.cli_common.out"},
        "bridge.cli.app": {"bridge.cli.render"},  # the CLI importing itself: allowed
        "bridge.__main__": {"bridge.cli.main"},
        "bridge.scheduler": {"bridge.testing.simulators.server"},
        "bridge.demo": {"bridge.testing.simulators.lapor"},  # the demo runs the simulators
        "bridge.sync.cycle": {"bridge.daemon.leases", "bridge.ledger.Ledger"},  # down: allowed
    }
    assert [str(v) for check in RULES.values() for v in check(graph)] == [
        "bridge.errors imports bridge.config: "
        "a leaf imports no other part of the bridge, except another leaf",
        "connectors.rest imports bridge.ledger: "
        "connectors never import the mapping, the ledger or the sync engine",
        "bridge.health imports bridge.cli: "
        "nothing imports the CLI but the CLI and bridge/__main__.py",
        "bridge.scheduler imports bridge.testing: "
        "only the CLI and bridge.demo import the test helpers",
        "bridge.sync.cycle imports bridge.daemon: a lower layer never imports a higher one",
    ]
