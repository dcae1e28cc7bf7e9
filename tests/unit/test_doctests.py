"""The examples in the pure modules' docstrings run and hold."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("contracts", "drift_client", "drift", "exporter", "transactions", "logins")


def modules() -> list[str]:
    found = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found += [m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{name}.") if not m.name.endswith("__main__")]
    return found


@pytest.mark.parametrize("module", modules())
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_the_pure_cores_have_examples():
    with_examples = {m for m in modules() if doctest.testmod(importlib.import_module(m)).attempted}
    assert {"drift.stats", "drift.counts", "drift.live_window", "drift.labelled", "drift.window", "contracts.policy", "drift_client.schema",
            "transactions.generator", "logins.generator", "logins.schema",
            *(f"drift.detectors.{t}" for t in ("psi", "ks", "chi_square", "jensen_shannon", "wasserstein"))} <= with_examples
