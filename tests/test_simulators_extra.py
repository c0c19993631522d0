"""Without the `simulators` extra, the simulators, `bridge demo` and `bridge simulate` name it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.errors import ConfigError
from bridge.testing.simulators import WEB_STACK, require_simulators

INSTALL_HINT = "pip install 'lapor-bridge[simulators]'"

# A bridge process whose Python cannot import the web stack, as after a plain `pip install .`.
WITHOUT_WEB_STACK = """
import sys
for module in {modules!r}:
    sys.modules[module] = None  # makes `import module` fail and find_spec answer None
sys.argv = ["bridge", *{argv!r}]
from bridge.cli import main
main()
"""


def run_without_web_stack(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = WITHOUT_WEB_STACK.format(modules=list(WEB_STACK), argv=list(argv))
    environ = {**os.environ, "COLUMNS": "200"}  # one problem per line, whatever the terminal
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )


def test_require_simulators_passes_with_the_web_stack_installed() -> None:
    """The development install has the extra, so the check lets the simulators load."""
    require_simulators()


@pytest.mark.parametrize("module", list(WEB_STACK))
def test_require_simulators_names_the_extra_for_each_missing_package(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    """A missing fastapi, uvicorn or python-multipart gives a ConfigError with the pip command."""
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ConfigError) as raised:
        require_simulators()
    assert raised.value.problems == [
        f"the simulators need {WEB_STACK[module]}, which this installation lacks: {INSTALL_HINT}"
    ]


def test_importing_the_simulators_without_the_web_stack_raises_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check runs on import, before any simulator module reaches for FastAPI."""
    for name in [name for name in sys.modules if name.startswith("bridge.testing.simulators")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "fastapi", None)
    with pytest.raises(ConfigError, match="lapor-bridge\\[simulators\\]"):
        importlib.import_module("bridge.testing.simulators.lapor")


@pytest.mark.parametrize(
    "argv", [("demo", "--dir", "demo-state"), ("simulate", "lapor")], ids=["demo", "simulate"]
)
def test_commands_that_need_the_simulators_say_how_to_install_them(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    """`bridge demo` and `bridge simulate` print the pip command and exit 2, no traceback."""
    result = run_without_web_stack(*argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert INSTALL_HINT in result.stderr
    assert "fastapi, uvicorn, python-multipart" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "demo-state").exists()  # stopped before doing anything
