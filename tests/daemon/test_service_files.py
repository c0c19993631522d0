"""Service files: systemd units verified by systemd, the compose file parsed, the image built."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/lapor-bridge/venv/bin/bridge"


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """The daemon unit, the oneshot and its timer verify cleanly (bridge path as installed here)."""
    bridge = Path(sys.executable).with_name("bridge")
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text(encoding="utf-8")
        (tmp_path / unit.name).write_text(text.replace(INSTALLED, str(bridge)), encoding="utf-8")
    units = sorted(str(p) for p in tmp_path.iterdir())
    checked = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr
    assert len(units) == 3


def test_the_daemon_unit_restarts_logs_to_journald_and_is_hardened() -> None:
    """Restart on failure but not on a configuration error, journald, own user, sandboxing."""
    text = (UNITS / "lapor-bridge.service").read_text(encoding="utf-8")
    for line in (
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "StandardOutput=journal",
        "User=lapor-bridge",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        f"ExecStart={INSTALLED} run --config /etc/lapor-bridge/bridge.toml",
    ):
        assert line in text.splitlines(), line
    oneshot = (UNITS / "lapor-bridge-sync.service").read_text(encoding="utf-8")
    assert "Type=oneshot" in oneshot and "sync --once" in oneshot


def test_the_compose_file_runs_the_bridge_on_postgresql_with_health_checks() -> None:
    """The compose file parses; the bridge waits for a healthy PostgreSQL and checks /livez."""
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["ledger"]["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(services["ledger"]["healthcheck"]["test"])
    bridge = services["bridge"]
    assert bridge["depends_on"]["ledger"]["condition"] == "service_healthy"
    assert bridge["environment"]["BRIDGE_LEDGER__URL"].startswith("postgresql+psycopg://")
    assert "/livez" in " ".join(bridge["healthcheck"]["test"])
    assert all(port.startswith("127.0.0.1:") for port in bridge["ports"])


def test_the_dockerfile_checks_livez_and_leaves_the_simulators_out() -> None:
    """HEALTHCHECK asks /livez; the package is installed without the [simulators] extra."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "HEALTHCHECK" in text and "/livez" in text
    assert "pip install . -c constraints.txt" in text and "[simulators]" not in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", "tests"} <= set(ignored)


@pytest.mark.skipif(not _engine_answers(), reason="no Docker engine answers `docker info` here")
def test_the_image_builds_without_the_simulators_web_stack() -> None:
    """`docker build` succeeds and the image has no FastAPI or uvicorn, but prometheus-client."""
    tag = "lapor-bridge:test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=1800)
    listed = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "pip", tag, "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout.lower()
    assert "prometheus" in listed and "fastapi" not in listed and "uvicorn" not in listed
