"""The allowed import directions (pyproject.toml, [tool.importlinter]) hold: no import runs up a layer, the core
imports no I/O library, the model-agnostic parts import no model's domain, and no package has a circle."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_the_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint), str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert f"{len(CONFIG['contracts'])} kept, 0 broken" in out.stdout


def test_every_top_level_package_is_in_a_layer():
    """A new package cannot escape the contracts: every one of the repository's is a root package and in a layer."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(CONFIG["root_packages"])
    layers = next(c for c in CONFIG["contracts"] if c["type"] == "layers")["layers"]
    in_layers = {name.strip() for layer in layers for name in layer.split("|")}
    assert in_layers == packages
