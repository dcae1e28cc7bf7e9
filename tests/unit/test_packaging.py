"""One distribution: the library's packages are installed (retrain included), the repository's tooling with generic
names (scripts, bench, loadgen, mixin, grafana) is not, and the console script's module is among what is installed."""
from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LIBRARY = {"contracts", "drift", "drift_client", "transactions", "logins", "bento_service", "exporter", "drift_report",
           "retrain"}


def installed() -> set[str]:
    return set(find_packages(str(ROOT), include=PROJECT["tool"]["setuptools"]["packages"]["find"]["include"]))


def test_the_library_is_installed_and_the_tooling_is_not():
    top = {name.split(".")[0] for name in installed()}
    assert top == LIBRARY
    assert not top & {"scripts", "bench", "loadgen", "mixin", "grafana", "tests"}
    assert "drift.detectors" in installed()


def test_the_console_script_is_installed():
    module = PROJECT["project"]["scripts"]["drift-monitor"].split(":")[0]
    assert module.rsplit(".", 1)[0] in installed() and (ROOT / (module.replace(".", "/") + ".py")).is_file()


def test_the_installed_layers_are_below_the_tooling():
    """What is installed never imports what is not: the tooling sits above every library layer (test_layers)."""
    layers = next(c for c in PROJECT["tool"]["importlinter"]["contracts"] if c["type"] == "layers")["layers"]
    names = [{n.strip() for n in layer.split("|")} for layer in layers]
    first_library = next(i for i, layer in enumerate(names) if layer & LIBRARY)
    assert set().union(*names[first_library:]) == LIBRARY


def test_the_image_copies_every_installed_package():
    """The Dockerfile's `pip install .` installs what it copied: a package left out is silently missing from the image
    (drift_report and retrain were, so `drift-monitor` could not run in it)."""
    import re
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert LIBRARY <= copied, LIBRARY - copied
