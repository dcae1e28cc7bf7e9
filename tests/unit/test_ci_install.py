"""`.ci/install-system-packages` installs exactly the Debian packages whose commands are missing.

Each case runs the real script under bash with a PATH of stub commands: an `apt-get` stub records what it was asked
to install. The case that broke CI: NodeSource's Node.js (node and its own npm present) and no chromium: the script
must ask for chromium alone, never Debian's npm (which conflicts with NodeSource's nodejs).
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "install-system-packages"
COMMANDS = ("redis-server", "redis-cli", "prometheus", "promtool", "prometheus-alertmanager", "amtool", "chromium",
            "node", "npm", "ss")


def run_with(tmp_path: Path, present: set[str]) -> list[str]:
    """The apt-get calls the script makes when only `present` (of COMMANDS) are on PATH."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "apt-calls"
    for name in present:
        (stubs / name).write_text("#!/bin/sh\nexit 0\n")
    (stubs / "apt-get").write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    bash = shutil.which("bash")
    result = subprocess.run([bash, str(SCRIPT)], env={"PATH": str(stubs)}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def installed(calls: list[str]) -> set[str]:
    packages = set()
    for call in calls:
        words = call.split()
        if "install" in words:
            packages |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    return packages


def test_nodesource_node_without_chromium_installs_chromium_alone(tmp_path):
    calls = run_with(tmp_path, set(COMMANDS) - {"chromium"})
    assert installed(calls) == {"chromium"}
    assert any(call.startswith("update") for call in calls)


def test_nothing_missing_installs_nothing(tmp_path):
    assert run_with(tmp_path, set(COMMANDS)) == []


@pytest.mark.parametrize("missing, packages", [
    ({"promtool"}, {"prometheus"}),
    ({"prometheus-alertmanager", "amtool"}, {"prometheus-alertmanager"}),  # one package for both commands
    ({"node", "npm"}, {"nodejs", "npm"}),  # a machine without any Node.js takes Debian's
    ({"ss", "redis-cli"}, {"iproute2", "redis-tools"}),
])
def test_each_missing_command_brings_its_own_package_once(tmp_path, missing, packages):
    assert installed(run_with(tmp_path, set(COMMANDS) - missing)) == packages
